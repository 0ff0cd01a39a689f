"""What the simulated people say, by language: a client's and an employee's everyday lines, and
a small share of lines a compliance policy should catch (each tagged with who would say it and
what it is). Written for the demo; the classifiers' corpus is elsewhere and never drawn from
here, so the demo does not merely echo the training data."""

from __future__ import annotations

from typing import NamedTuple


class Risky(NamedTuple):
    text: str
    outbound: bool  # said by the employee (True) or by the client (False)
    kind: str  # what a reviewer would call it


CLIENT = {
    "pt": [
        "Bom dia! Conseguiu ver o extrato que te mandei?",
        "Oi, tudo bem? Queria entender melhor aquele fundo de renda fixa.",
        "Qual o prazo de resgate do CDB?",
        "Pode me ligar depois das 15h?",
        "Recebi o boleto, obrigado 🙏",
        "O aporte caiu na conta?",
        "Vi a notícia sobre a Selic, muda alguma coisa pra mim?",
        "Me manda o informe de rendimentos, por favor",
        "Vou viajar semana que vem, dá pra adiantar a transferência?",
        "Obrigada pela ajuda de ontem!",
        "Quanto rendeu a carteira esse mês?",
        "Tem alguma taxa pra sair antes do vencimento?",
    ],
    "es": [
        "Hola, ¿pudiste revisar mi cartera?",
        "Buenos días, ¿cuándo vence el depósito?",
        "¿Me mandas el extracto de noviembre?",
        "Perfecto, gracias por la info",
        "¿Qué comisión tiene el fondo indexado?",
        "Te llamo esta tarde si te parece",
        "¿Ya se hizo la transferencia a la cuenta de mi hija?",
        "Vi que bajó el euríbor, ¿nos afecta?",
        "Necesito el certificado para Hacienda",
        "Vale, lo firmo mañana en la oficina",
        "¿Hay algo nuevo en renta fija?",
        "Muchas gracias, muy amable 😊",
    ],
    "en": [
        "Hi, did you get a chance to look at my portfolio?",
        "Can you send me last month's statement?",
        "What are the charges on the SIP?",
        "Thanks, that helps a lot",
        "Is the market open tomorrow?",
        "Please call me after lunch",
        "When will the dividend be credited?",
        "I want to add my wife as nominee, what do I need?",
        "Got the KYC documents, will upload tonight",
        "Ok noted 👍",
        "How did the balanced fund do this quarter?",
        "Can we meet at the branch on Friday?",
    ],
    "hi": [
        "Bhai statement bhej do please",
        "Kal call karte hain, aaj busy hoon",
        "SIP ka amount badhana hai, kaise karu?",
        "Thik hai, thank you ji",
        "Market itna kyu gira aaj?",
        "Nominee update ho gaya kya?",
        "Mujhe FD ka maturity date batao",
        "Haan ji, documents mil gaye",
        "Portfolio review kab kar sakte hain?",
        "Accha, samajh gaya 👍",
    ],
}

EMPLOYEE = {
    "pt": [
        "Bom dia! Vi sim, está tudo certo com as movimentações.",
        "Te mando a lâmina do fundo com os riscos em seguida.",
        "Posso te ligar às 16h?",
        "O resgate é em D+1 útil.",
        "O aporte foi creditado hoje cedo.",
        "Segue o informe, qualquer dúvida me avisa.",
        "Vou confirmar com a mesa e te retorno.",
        "Lembrando que rentabilidade passada não garante resultado futuro.",
        "Perfeito, agendado para quinta.",
        "Obrigada, Carlos! Bom fim de semana.",
    ],
    "es": [
        "Hola, sí, la revisé esta mañana.",
        "Te envío el extracto por el canal oficial.",
        "La comisión de gestión es del 0,4 % anual.",
        "La transferencia sale hoy.",
        "Te adjunto el folleto con los riesgos del fondo.",
        "Perfecto, te espero mañana a las 10.",
        "Lo consulto con el equipo y te digo.",
        "Recuerda que rentabilidades pasadas no garantizan las futuras.",
        "De nada, para eso estamos.",
    ],
    "en": [
        "Yes, I reviewed it this morning, all in order.",
        "Sending the statement through the portal now.",
        "The SIP has no entry load; the expense ratio is in the factsheet.",
        "Dividend should be credited by Thursday.",
        "Sure, Friday 11 am works.",
        "I'll check with operations and revert.",
        "Please note past performance is not indicative of future returns.",
        "Nominee form attached, please sign page 2.",
        "Thank you, have a good evening.",
    ],
    "hi": [
        "Ji, statement email kar diya hai",
        "Kal 11 baje call karte hain",
        "SIP amount app se badha sakte ho, main guide kar deta hoon",
        "Nominee update ho gaya hai",
        "Market volatile hai, long term plan pe focus karein",
        "Theek hai, main check karke batata hoon",
    ],
}

RISKY = {
    "pt": [
        Risky("Pode confiar, esse fundo garante 2% ao mês, sem risco nenhum.", True, "guarantee"),
        Risky(
            "Me chama no Telegram que lá a gente fala melhor: t.me/ana_invest", True, "off_channel"
        ),
        Risky("Segue meu CPF 529.982.247-25 pra abrir a conta", False, "personal data"),
        Risky(
            "Não comenta isso com ninguém do compliance, apaga essa mensagem depois.",
            True,
            "secrecy",
        ),
        Risky(
            "Soube por um amigo da diretoria que a fusão sai semana que vem, compra antes.",
            True,
            "mnpi",
        ),
        Risky("Vou abrir reclamação na CVM se não resolverem isso hoje!", False, "complaint"),
    ],
    "es": [
        Risky("Te garantizo un 15% anual, es imposible perder.", True, "guarantee"),
        Risky("Mejor escríbeme a mi móvil personal, por Signal.", True, "off_channel"),
        Risky("Mi tarjeta es 4111 1111 1111 1111, cárgalo ahí", False, "personal data"),
        Risky(
            "Si me pasas el contrato te invito a un viaje a Cancún, entre nosotros.",
            True,
            "bribery",
        ),
        Risky("Borra este chat, que no quede registro.", True, "secrecy"),
    ],
    "en": [
        Risky("This one is guaranteed, zero risk, you will double your money.", True, "guarantee"),
        Risky("Let's move this to my personal WhatsApp, not this number.", True, "off_channel"),
        Risky("My PAN is ABCPE1234F and Aadhaar 2341 2341 2346", False, "personal data"),
        Risky(
            "Results come out Tuesday and they beat estimates, buy today before it's public.",
            True,
            "mnpi",
        ),
        Risky("I will report you to SEBI if my money is not returned.", False, "complaint"),
    ],
    "hi": [
        Risky("Bhai guaranteed return hai, 20% pakka, koi risk nahi", True, "guarantee"),
        Risky("Personal number pe baat karte hain, yahan sab record hota hai", True, "off_channel"),
        Risky("Compliance ko mat batana, delete kar dena ye chat", True, "secrecy"),
    ],
}

CAPTIONS = {
    "pt": ["o contrato assinado", "comprovante", "print do app"],
    "es": ["el contrato firmado", "justificante", "captura de la app"],
    "en": ["signed form", "transfer receipt", "screenshot from the app"],
    "hi": ["form sign kar diya", "receipt", "app ka screenshot"],
}

CITIES = {
    "pt": ("Av. Paulista, 1000, São Paulo", -23.5614, -46.6559, "Agência Paulista"),
    "es": ("Paseo de la Castellana 81, Madrid", 40.4478, -3.6918, "Oficina Castellana"),
    "en": ("Bandra Kurla Complex, Mumbai", 19.0674, 72.8680, "BKC branch"),
    "hi": ("Connaught Place, New Delhi", 28.6315, 77.2167, "CP branch"),
}

REACTIONS = ["👍", "🙏", "😊", "❤️", "😮"]
