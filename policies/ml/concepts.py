"""Concepts: a hand-written multilingual thesaurus the classifiers read beside the n-grams.

Why: the held-out lines the n-gram model misses share no word with a training line of their
category (docs/benchmarks.md, "Detection: classifiers"), but they share meaning: "apaga isso",
"borra el mensaje", "delete this" and "mita do" are one concept (erase). Each message is turned
into concept tokens (and pairs of them, "erase+record"), a small feature block next to the char
and word n-grams, so a wording the corpus never had still lights the features its meaning does.

Written by the team from the category definitions of issue 11 and the languages (en, pt, es,
Hinglish), not from evaluation lines. Each phrase is matched on folded text (policies/ml/text.fold:
no case, no accents), word by word; a word ending in `*` matches any word it begins
(`apag*`: apaga, apagar, apagou). A concept whose first word stands in a negator's scope
("no one can guarantee") gives its own token, `neg_guarantee`, as the word block does.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from policies.ml.text import NEGATED, fold, word_tokens

MIN_STEM = 3  # a stem shorter than this would match half the dictionary
PAIR = "+"


@dataclass(frozen=True, slots=True)
class Concept:
    label: str  # what an explanation says, in the officers' words
    phrases: tuple[str, ...]


def _c(label: str, *phrases: str) -> Concept:
    return Concept(label, phrases)


# Grouped by the category they mostly serve, but a concept is a feature, not a verdict: the
# model weighs it per category, and the hard negatives' concepts (deliveries, drafts, signal
# strength) are there so that shared words have somewhere else to go.
CONCEPTS: Mapping[str, Concept] = {
    # --- secrecy: concealing from records or compliance
    "erase": _c(
        "deleting or erasing",
        "delete*", "delet*", "erase*", "wipe*", "shred*", "destroy*", "unsend", "get rid of",
        "clear the chat", "clear chat", "remove it", "remove this", "remove that",
        "apag*", "delet*", "exclu*", "elimin*", "limpa*", "destru*", "some com", "sumir com",
        "borr*", "limpia*", "quita eso", "desaparece*", "desaparec*",
        "mita*", "mitao", "mitado", "hata do", "hata de", "hatao", "hata dena", "uda do", "uda de",
        "udao", "saaf kar*", "clear kar*", "delete kar*", "delete maar",
    ),
    "record": _c(
        "the record or its trail",
        "record*", "trail", "paper trail", "trace*", "evidence", "proof", "history", "log*",
        "chat*", "thread", "message*", "msg*", "msgs", "text*", "email*", "mail*", "sent items",
        "screenshot*", "print*", "file*", "minutes",
        "registro*", "registr*", "rastro*", "vestigio*", "prova*", "evidencia*", "historico*",
        "conversa*", "mensag*", "mensaj*", "convers*", "historial", "huella*", "prueba*",
        "correo*", "acta*", "ata da", "saboot", "sabut", "record*", "likha hua",
    ),
    "oversight": _c(
        "compliance or monitoring",
        "compliance", "complience", "complaince", "audit*", "monitor*", "supervis*",
        "surveil*", "oversight", "legal", "risk team", "the regulator", "regulator*",
        "cumplimiento", "conformidade", "juridico", "auditoria*", "fiscaliza*", "vigil*",
        "control interno", "controles internos", "nigrani", "jaanch", "checking team",
        "compliance wale", "compliance walo", "compliance team",
    ),
    "dont_tell": _c(
        "asking someone not to tell",
        "don t tell", "dont tell", "do not tell", "never tell", "won t tell", "not a word",
        "don t mention", "dont mention", "don t say", "dont say", "don t let", "dont let",
        "keep quiet", "keep it quiet", "keep mum", "zip it", "hush", "hush hush", "tell no one",
        "nao conta", "nao conte", "nao fala", "nao fale", "nao diga", "nao comenta",
        "nao menciona", "ninguem pode saber", "boca fechada", "bico calado", "fica quieto",
        "no le digas", "no digas", "no cuentes", "no le cuentes", "no menciones", "no comentes",
        "nadie puede saber", "ni una palabra", "boca cerrada", "calladito", "callado",
        "mat batana", "mat batao", "mat bolna", "mat bolo", "mat bata", "mat kehna",
        "na batana", "na bolna", "kisi ko mat", "kisiko mat", "kisi ko nahi", "chup rehna",
        "chup rahna", "chupchap", "chup chap",
    ),
    "between_us": _c(
        "keeping it between us",
        "between us", "between you and me", "just between", "off the record", "our secret",
        "our little secret", "secret*", "hush money", "confidential between",
        "entre nos", "entre a gente", "so entre", "nosso segredo", "segredo*", "sigilo*",
        "entre nosotros", "entre nosotras", "entre tu y yo", "nuestro secreto", "secreto*",
        "apne beech", "hum dono ke beech", "humare beech", "hamare beech", "sirf tum aur main",
        "raaz", "raz", "secret rakh*",
    ),
    "hide": _c(
        "hiding something",
        "hide", "hiding", "hidden", "conceal*", "cover up", "cover it", "bury it",
        "under the rug", "sweep it", "keep it off", "keep this off", "off the books",
        "escond*", "ocult*", "abafa*", "encobr*", "debaixo do tapete", "por fora",
        "encubr*", "tapar", "tapa eso", "debajo de la alfombra", "bajo la alfombra",
        "chhupa*", "chupa*", "chhupao", "daba do", "dabao", "dabaa",
    ),
    "not_in_writing": _c(
        "keeping it out of writing",
        "not in writing", "nothing in writing", "don t write", "dont write", "don t put",
        "dont put", "not on email", "not over email", "not over text", "verbally", "in person",
        "face to face", "say it in person", "by voice", "voice note",
        "nada por escrito", "nao escreve", "nao escreva", "nao coloca", "nao bota",
        "pessoalmente", "ao vivo", "de boca", "so falando", "audio",
        "no escribas", "no lo escribas", "no pongas", "en persona", "de palabra", "verbalmente",
        "mat likh*", "likh ke mat", "likhna mat", "likhke mat", "milke batata", "milke bata*",
        "zubani", "mooh se", "muh se",
    ),
    "falsify": _c(
        "changing or backdating records",
        "backdate*", "back date", "change the date", "alter*", "falsif*", "fudge*", "doctor the",
        "cook the books", "fix the numbers", "adjust the numbers", "rewrite", "edit the",
        "adulter*", "maquia*", "mexer nos numeros", "muda a data", "troca a data",
        "retroativ*", "cambia la fecha", "arregla los numeros", "maquill*", "retroactiv*",
        "date badal*", "tareekh badal*", "number badal*", "jhooth", "jhoot",
    ),
    "destroy_paper": _c(
        "destroying or losing papers",
        "burn*", "tear it", "tear up", "lose the", "get lost", "gets lost", "get rid", "got rid",
        "throw it away", "throw away", "bin it", "toss it",
        "queim*", "rasga*", "se perder", "vai sumir", "some com", "se livr*", "jogar fora",
        "joga fora", "quem*", "romp*", "perder*", "pierde*", "deshac*", "deshech*", "tira*",
        "phaad*", "jala do", "jala de", "jala diya", "jala ke", "kho jayega", "kho jaye",
        "kho gaya", "chhutkara", "fenk do", "fenk de", "phenk do", "phenk de",
    ),
    "forget_it": _c(
        "asking to forget or deny what was said",
        "forget i said", "forget what", "forget it", "never happened", "i ll deny", "deny it",
        "you didn t hear", "didn t hear it from me", "never said", "forget what he heard",
        "esquece*", "esqueca*", "nunca aconteceu", "eu nego", "vou negar", "nunca falei",
        "olvida*", "olvidalo", "nunca paso", "lo niego", "lo negare", "nunca dije",
        "bhool ja", "bhool jao", "bhool jana", "bhool*", "mukar jana", "mukar jaunga",
        "maine kabhi nahi kaha", "kuch nahi hua",
    ),
    "unseen": _c(
        "so that nobody sees or notices",
        "won t show", "wont show", "doesn t show", "not show up", "won t appear", "isn t visible",
        "nobody will notice", "no one will notice", "won t notice", "nobody will know",
        "no one will know", "nobody looks", "nobody asks", "so nobody", "so no one",
        "off the radar", "under the radar", "flying under", "not under our", "not visible",
        "nao aparece", "nao vai aparecer", "nem vai ver", "ninguem vai ver", "ninguem vai saber",
        "pra ninguem", "pro buraco nao", "nao pega", "sistema nao pegar", "ninguem percebe",
        "no aparece", "no sale", "no se vea", "que nadie", "para que nadie", "nadie se entera",
        "nadie va a saber", "no se nota",
        "pata nahi chalega", "notice nahi", "kisi ko pata", "dikhega nahi", "nahi dikhega",
        "nazar nahi",
    ),
    "being_watched": _c(
        "others reading or reviewing the chat",
        "they read everything", "reading everything", "read everything", "reviewed",
        "review hoti", "gets reviewed", "being watched", "they re watching", "investigators",
        "the checker", "reviewer", "they monitor", "watchlist", "the filter", "flag it",
        "revisado", "revisa*", "estao lendo", "leem tudo", "conferente", "investigador*",
        "revisor*", "o filtro pega", "estan leyendo", "leen todo", "el que revisa",
        "padh rahe", "padhte hai", "sab padhte", "checker", "review me", "review mein",
    ),
    "reviewer_away": _c(
        "waiting until the reviewer is away",
        "on leave", "is gone", "gone for the weekend", "while the", "when the checker",
        "out of office", "on holiday", "on vacation", "after hours",
        "de licenca", "de ferias", "foi embora", "ja foi", "enquanto a", "enquanto o",
        "de baja", "de vacaciones", "se ha ido", "mientras la", "mientras el",
        "leave pe", "chhutti", "nikal jata", "nikal jaye", "nikal jayega", "tab tak",
    ),
    "code_words": _c(
        "code words",
        "code word*", "code name*", "codeword*", "in code", "when i say", "i mean the",
        "our word for", "emoji for",
        "por codigo", "em codigo", "codigo*", "quando eu falar", "quando eu disser",
        "palavra chave", "cuando diga", "cuando digo", "en clave", "clave",
        "code mein", "code me", "code words", "matlab", "jab main bolu", "jab bolu",
    ),
    "mislabel": _c(
        "booking or labelling it as something else",
        "log it as", "book it as", "put it down as", "put it as", "code it as", "file them under",
        "file it under", "call it", "mark it as", "tick", "invoice says", "label it",
        "classify it as", "expense it as", "as consulting", "as training",
        "lanca como", "coloca como", "bota como", "registra como", "arquiva como",
        "marca", "como consultoria", "como treinamento", "nota diz", "poe como",
        "anota*", "factura*", "metelo como", "mete*", "cargalo", "ponlo como", "pon solo",
        "como formacion", "la factura", "marca la",
        "me daal", "mein daal", "likh de", "dikha de", "as fuel", "bill bana",
    ),
    "official_story": _c(
        "an agreed story",
        "official version", "official story", "if they ask", "if anyone asks", "just say",
        "only talked about", "we only talked", "stick to the story", "our story",
        "versao oficial", "se perguntarem", "se alguem perguntar", "so fala que", "diz que",
        "a gente so falou", "so falamos",
        "version oficial", "si preguntan", "si alguien pregunta", "di que", "solo hablamos",
        "koi puche", "koi pooche", "bol dena", "bolna ki", "official version",
    ),
    "lie_low": _c(
        "going quiet",
        "go quiet", "lie low", "lay low", "low profile", "keep your head down",
        "some uns dias", "fica na moita", "fica quieto", "desaparece unos dias", "perfil bajo",
        "chup reh", "chup raho", "gayab ho ja", "kuch din chup",
    ),
    "structuring": _c(
        "splitting money to avoid reporting",
        "smaller amounts", "small amounts", "under 10", "below 10", "split it", "split the",
        "gets reported", "under the limit", "below the limit", "through the subsidiary",
        "valores menores", "abaixo de 10", "abaixo do limite", "divide em",
        "por debajo de 10", "importes pequenos", "divide en", "debajo del limite",
        "tukdon mein", "chhote amount", "limit se neeche",
    ),
    # --- off_channel: moving the conversation to an unmonitored channel or device
    "other_app": _c(
        "another messaging app",
        "signal", "telegram", "wickr", "wechat", "imessage", "facetime", "snapchat", "snap",
        "insta", "instagram", "ig", "dm", "dms", "messenger", "viber", "threema", "discord",
        "skype", "teams", "slack", "line", "kakao", "session app", "telegrama",
        "zap", "zapzap", "whats pessoal", "wpp", "insta dm",
    ),
    "personal_device": _c(
        "a personal phone, number or email",
        "personal", "private", "my own", "own phone", "other phone", "other number",
        "second phone", "second number", "burner", "home phone", "cell", "cellphone", "mobile",
        "gmail", "hotmail", "yahoo", "outlook com", "icloud", "protonmail", "proton",
        "pessoal", "particular", "privado", "outro numero", "outro celular", "meu numero",
        "meu cel", "meu celular", "celular", "cel", "numero pessoal", "email pessoal",
        "otro numero", "otro celular", "mi numero", "mi celular", "mi cel", "correo personal",
        "numero personal", "dusra number", "doosra number", "dusre number", "doosre number",
        "mera number", "mere number", "personal number", "personal wala", "ghar ka number",
        "apna number", "private number",
    ),
    "move_channel": _c(
        "moving the conversation",
        "switch to", "move to", "move this to", "take this to", "take it to", "continue on",
        "chat on", "talk on", "text me on", "ping me on", "message me on", "add me on",
        "hit me on", "dm me", "text me", "call me", "ring me", "reach me on", "let s move",
        "me chama no", "chama no", "me manda no", "manda no", "passa pro", "vamos pro",
        "vamos para o", "fala comigo no", "me liga", "liga pra", "me add", "me adiciona",
        "pasemos a", "escribeme al", "escribeme por", "hablamos por", "seguimos por",
        "llamame", "agregame", "mandame al", "vamos al",
        "pe aao", "pe aa", "pe msg", "pe message", "pe baat", "par baat", "pe ping",
        "pe bhej", "call karo", "call kar", "phone karo", "phone kar", "baat karte",
        "wahan baat", "udhar baat", "shift kar*",
    ),
    "unmonitored": _c(
        "somewhere not monitored or recorded",
        "not monitored", "unmonitored", "not recorded", "isn t recorded", "not tracked",
        "not logged", "no record", "encrypted", "end to end", "disappearing", "vanish mode",
        "auto delete", "self destruct", "temporary messages", "nobody reads", "nobody sees",
        "nao monitorado", "nao e monitorado", "nao grava", "sem registro", "criptografad*",
        "mensagens temporarias", "temporaria*", "ninguem ve", "ninguem le",
        "no monitoreado", "no se graba", "sin registro", "cifrad*", "encriptad*",
        "mensajes temporales", "temporal*", "nadie ve", "nadie lee",
        "monitor nahi", "record nahi", "track nahi", "koi nahi dekhta", "koi nahi padhta",
    ),
    # --- guarantee: guaranteed or risk-free returns, misleading performance claims
    "guarantee": _c(
        "a guarantee or promise",
        "guarant*", "garant*", "assured", "assure*", "certain*", "for sure", "100",
        "sure shot", "sureshot", "surety", "no doubt", "promise*", "i promise", "my word",
        "certeza", "com certeza", "certeza absoluta", "prometo", "promet*", "sem duvida",
        "pode confiar", "fija", "seguro que", "te lo aseguro", "sin duda", "asegur*",
        "pakka", "pakka hai", "pukka", "vaada", "vada", "guaranteed hai", "100 percent",
        "100 percentage", "cent percent",
    ),
    "no_risk": _c(
        "no risk or no loss",
        "risk free", "riskless", "no risk", "zero risk", "without risk", "can t lose",
        "cannot lose", "can t go wrong", "never lose", "no loss", "no losses", "safe bet",
        "capital protected", "fully protected", "no downside",
        "sem risco", "risco zero", "zero risco", "nao tem como perder", "nao perde",
        "aposta segura", "nao tem erro", "capital protegido",
        "sin riesgo", "riesgo cero", "cero riesgo", "no puedes perder", "no se pierde",
        "apuesta segura", "no hay perdida", "capital protegido",
        "koi risk nahi", "risk nahi", "zero risk hai", "loss nahi", "nuksan nahi", "nuksaan nahi",
        "ghata nahi", "doobega nahi", "dubega nahi",
    ),
    "returns": _c(
        "returns or profit",
        "return*", "profit*", "gain*", "yield*", "roi", "double your", "double the money",
        "doubles", "triple", "per month", "a month", "monthly", "per year", "a year", "annual*",
        "p a", "pa",
        "retorno*", "rentab*", "rendimento*", "rendendo", "rende", "lucro*", "ganho*", "dobra*",
        "ao mes", "por mes", "ao ano", "juros",
        "rendimiento*", "ganancia*", "beneficio*", "duplica", "duplicar",
        "al mes", "al ano", "interes*",
        "munafa", "fayda", "faida", "kamai", "double ho", "paisa double", "har mahine",
        "mahine ka", "saal ka",
    ),
    "track_record": _c(
        "a claim about past performance",
        "never lost", "never had a losing", "always beat*", "beats the market",
        "beat the market", "outperform*", "every year", "track record", "always goes up",
        "nunca perdeu", "sempre bate", "bate o mercado", "sempre sobe", "todo ano",
        "nunca ha perdido", "siempre gana", "supera al mercado", "siempre sube", "cada ano",
        "kabhi loss nahi", "hamesha upar", "har saal",
    ),
    # --- mnpi: sharing or soliciting material non-public information
    "inside_info": _c(
        "inside or non-public information",
        "inside info", "inside information", "insider", "inside scoop", "non public",
        "nonpublic", "not public", "not yet public", "before it s public", "before it goes public",
        "under wraps", "embargo*", "leak*", "tip off", "hot tip", "heads up", "confidential",
        "info privilegiada", "informacao privilegiada", "privilegiad*", "nao e publico",
        "ainda nao e publico", "antes de sair", "antes de ser publico", "vaz*", "dica quente",
        "informacion privilegiada", "no es publico", "todavia no es publico",
        "antes de que salga", "antes de que sea publico", "filtr*", "soplo", "confidencial*",
        "andar ki baat", "andar ki khabar", "andar ki news", "andar ki info", "andar se",
        "public nahi", "abhi public nahi", "kisi ko pata nahi", "leak hua",
    ),
    "corporate_event": _c(
        "a company event that moves prices",
        "merger", "acquisition", "acquir*", "takeover", "buyout", "bid", "deal", "tender offer",
        "earnings", "results", "guidance", "quarterly", "q1", "q2", "q3", "q4", "ipo",
        "rights issue", "dividend*", "buyback", "downgrade", "upgrade", "fda approval",
        "restructur*", "layoff*", "bankrupt*", "chapter 11", "profit warning", "write down",
        "fusao", "aquisicao", "incorporacao", "balanco", "resultado*", "trimestr*",
        "dividendo*", "recompra", "reestrutura*", "demiss*", "falencia", "recuperacao judicial",
        "oferta publica", "opa",
        "fusion", "adquisicion", "compra de", "reestructura*", "despidos", "quiebra",
        "concurso de acreedores",
        "merger hone", "deal hone", "result aane", "results aane",
    ),
    "announcement": _c(
        "before an announcement",
        "announce*", "announcement", "press release", "before the announcement",
        "goes public", "made public", "before monday", "before the market", "before open",
        "before close", "pre market", "after close", "next week", "tomorrow",
        "anunci*", "comunicado", "fato relevante", "antes do anuncio", "amanha",
        "semana que vem", "antes de abrir",
        "antes del anuncio", "hecho relevante", "manana", "la proxima semana",
        "announcement se pehle", "announce hone", "ghoshna", "kal", "agle hafte",
    ),
    "trade_now": _c(
        "buying or selling on it",
        "buy", "buy now", "load up", "dump", "sell", "short it", "go long", "get in",
        "get out", "position*", "stock*", "shares", "calls", "puts", "options",
        "compra*", "compre*", "vende*", "acao", "acoes", "papel", "papeis", "entra",
        "compra ya", "vende ya", "accion*", "entra ya", "invierte",
        "khareed*", "kharid*", "khareedo", "bech*", "becho", "le lo", "shares le", "stock le",
    ),
    # --- bribery: gifts, kickbacks, inducements to officials or healthcare professionals
    "gift": _c(
        "a gift, trip or cash",
        "gift*", "present", "voucher*", "gift card", "cash", "envelope", "trip", "vacation",
        "holiday package", "resort", "cruise", "tickets", "iphone", "rolex", "watch",
        "presente*", "mimo*", "brinde*", "vale presente", "dinheiro", "grana", "envelopinho",
        "viagem", "ferias", "ingresso*",
        "regalo*", "obsequio*", "efectivo", "lana", "viaje*", "vacaciones", "entradas",
        "tohfa", "gift de", "gift do", "gift dena", "paisa", "paise", "lifafa", "nakad",
        "cash de", "cash do", "cash dena",
    ),
    "kickback": _c(
        "a bribe or kickback",
        "kickback*", "brib*", "bung", "grease", "under the table", "sweetener", "cut",
        "commission for him", "facilitation", "speed money", "a little something",
        "take care of him", "take care of them", "make it worth",
        "propina*", "suborn*", "por baixo dos panos", "molhar a mao", "cafezinho", "agrado",
        "jeitinho", "caixinha", "por debajo de la mesa", "mordida", "coima*", "soborn*",
        "untar", "rishwat", "ghoos", "ghus", "chai pani", "chai paani", "setting", "kat",
        "commission de", "commission do", "commission dena",
    ),
    "official": _c(
        "an official",
        "official*", "customs", "inspector*", "minister*", "government", "govt", "regulator",
        "licen*", "permit*", "tender", "procurement", "police", "judge", "mayor", "clerk",
        "funcionario*", "servidor publico", "fiscal*", "alfandega", "ministr*", "governo",
        "prefeitura", "licitac*", "alvara", "policia", "juiz", "vereador",
        "aduana", "gobierno", "licitacion*", "juez", "alcalde", "permiso*",
        "sarkari", "babu", "afsar", "officer", "collector", "tehsildar", "thana",
    ),
    "hcp": _c(
        "a doctor or health professional",
        "doctor*", "dr", "doc", "physician*", "hospital*", "clinic*", "pharmacist*", "nurse*",
        "hcp", "hcps", "kol", "kols", "surgeon*", "prescriber*", "speaker fee",
        "medico*", "medica*", "farmaceut*", "enfermeir*", "clinica*", "doutor*", "dra",
        "enfermer*", "doctora", "galeno",
        "doctor sahab", "daktar", "dactor",
    ),
    "in_exchange": _c(
        "something in exchange",
        "in exchange", "in return", "if he signs", "if they sign", "if he approves",
        "if they approve", "approve*", "sign off", "look the other way", "turn a blind eye",
        "keep him happy", "keep them happy", "push our", "favour*", "favor*", "quid pro quo",
        "em troca", "em contrapartida", "se ele assinar", "se aprovar", "aprova*",
        "fazer vista grossa", "deixa ele feliz", "favorzinho",
        "a cambio", "si firma", "si aprueba", "aprueb*", "hacerse de la vista gorda",
        "mantenerlo contento", "favorcito",
        "badle mein", "badle me", "ke badle", "sign kar de", "approve kar de", "khush rakh*",
        "pass kar de", "pass karwa*",
    ),
    "prescribe_more": _c(
        "prescribing more of a product",
        "prescribe more", "more scripts", "write more", "switch patients", "prescrib*",
        "prescrev*", "receitar mais", "receita*", "recet*", "receta*", "prescri*",
        "likho", "likh do", "likhe", "zyada likh*",
    ),
    # --- off_label: promoting a drug for unapproved uses
    "drug": _c(
        "a medicine",
        "drug*", "medicine*", "medication*", "med", "meds", "tablet*", "pill*", "capsule*",
        "dose*", "dosage", "mg", "injection*", "product", "molecule",
        "medicamento*", "remedio*", "farmaco*", "comprimido*", "pilula*", "capsula*",
        "injecao", "dose", "produto",
        "pastilla*", "inyeccion*", "dosis", "producto",
        "dawa", "dawai", "dawaai", "goli", "goliyan",
    ),
    "unapproved_use": _c(
        "a use it is not approved for",
        "off label", "offlabel", "unapproved", "not approved", "not indicated", "not on the label",
        "not in the label", "beyond the label", "outside the label", "not licensed for",
        "also works for", "works for", "use it for", "also for", "other uses", "for kids",
        "for children", "pediatric*", "paediatric*", "weight loss", "lose weight", "anti aging",
        "fora da bula", "nao esta na bula", "nao aprovado", "sem aprovacao", "tambem serve",
        "serve pra", "serve para", "usa pra", "outros usos", "pra criancas", "emagrec*",
        "fuera de indicacion", "fuera de ficha", "no aprobado", "no esta aprobado",
        "tambien sirve", "sirve para", "usalo para", "otros usos", "para ninos", "adelgaz*",
        "label pe nahi", "approved nahi", "ke liye bhi", "bhi kaam karta", "bhi chalta",
        "bachchon ke liye", "bacchon", "weight kam",
    ),
    "recommend_use": _c(
        "recommending it to patients or doctors",
        "recommend*", "tell patients", "tell the doctors", "suggest it", "pitch it", "push it",
        "recomend*", "indica pra", "indicar", "fala pros medicos", "sugere",
        "recomienda*", "diles a los medicos", "sugiere", "indicalo",
        "recommend kar*", "bol do doctors", "suggest kar*",
    ),
    "weak_evidence": _c(
        "claims without evidence",
        "no studies", "not studied", "no trials", "no data", "anecdot*", "trust me it works",
        "works great", "works wonders", "miracle",
        "sem estudo*", "nao tem estudo", "funciona", "milagre*", "faz milagre",
        "sin estudios", "no hay estudios", "milagro*", "funciona de maravilla",
        "kaam karta", "kamaal", "jaadu", "jadoo",
    ),
    # --- harassment: abusive, threatening, discriminatory
    "insult": _c(
        "an insult",
        "idiot*", "stupid*", "moron*", "dumb*", "useless", "loser*", "pathetic", "incompetent",
        "worthless", "clown", "bitch*", "bastard*", "asshole*", "fuck*", "shit*", "crap",
        "shut up", "retard*",
        "idiota*", "imbecil*", "estupid*", "burro*", "burra*", "lixo", "inutil*", "otario*",
        "babaca*", "arrombad*", "fdp", "filho da puta", "vagabund*", "cala a boca", "porra",
        "merda",
        "pendej*", "cabron*", "gilipollas", "mierda", "basura", "hijo de puta", "callate",
        "tarad*", "subnormal",
        "bewakoof", "bevakoof", "bewkoof", "gadha", "gadhe", "ullu", "kamina", "kamine",
        "chutiya", "chutiye", "saala", "saale", "harami", "nalayak", "nikamma", "nikammi",
        "chup kar", "bakwas band", "pagal",
    ),
    "threat": _c(
        "a threat",
        "kill*", "i ll find you", "you ll regret", "you will regret", "watch your back",
        "watch out", "know where you live", "beat you", "hurt you", "destroy you",
        "make your life hell", "you re finished", "you re done", "or else",
        "te mato", "vou te matar", "matar", "vai se arrepender", "vai pagar", "sei onde voce mora",
        "acabar com voce", "te pego", "se cuida", "toma cuidado", "voce vai ver",
        "vas a pagar", "te vas a arrepentir", "se donde vives", "acabar contigo", "ya veras",
        "te voy a", "cuidate",
        "maar dunga", "maarunga", "maar daalunga", "dekh lunga", "dekh lena", "chhodunga nahi",
        "chodunga nahi", "pachtaoge", "pachtayega", "barbaad kar",
    ),
    "identity": _c(
        "someone's identity (sex, race, age, religion, body)",
        "women", "woman", "girls", "girl", "gay", "old man", "old woman", "your kind",
        "those people", "go back to your country", "black", "fat", "pregnant", "religion",
        "muslim*", "jew*", "immigrant*", "disabled", "cripple*",
        "mulher*", "menina*", "velho*", "velha*", "essa gente", "volta pro seu pais", "negro*",
        "macaco*", "gord*", "gravida", "viado*", "bicha",
        "mujer*", "nina*", "viej*", "esa gente", "vuelve a tu pais", "sudaca*", "mono*",
        "embarazada", "maricon*",
        "aurat*", "ladki*", "ladkiyan", "buddha", "budhe", "kaala", "kaali", "mota", "moti",
        "chhakka", "tum log",
    ),
    "sexual": _c(
        "sexual remarks",
        "sexy", "hot", "body", "your legs", "send pics", "send nudes", "nudes", "sleep with",
        "date me", "babe", "baby", "sweetheart", "honey", "kiss",
        "gostos*", "delicia", "manda foto", "manda nude*", "dormir comigo", "corpo", "beijo*",
        "rica", "guapa", "buenota", "mamacita", "cuerpo", "acostarte", "besito*",
        "jaan", "jaanu", "sexy lag*", "figure", "maal", "item",
    ),
    # --- complaint: customer complaints, threats to go to the regulator
    "dissatisfied": _c(
        "dissatisfaction",
        "unacceptable", "terrible", "horrible", "worst", "disappointed", "disappointing",
        "frustrat*", "fed up", "sick of", "tired of", "ridiculous", "absurd", "shameful",
        "disgusting", "awful", "poor service", "bad service", "not happy", "unhappy",
        "inaceitavel", "pessim*", "horrivel", "pior", "decepcion*", "cansad*", "absurdo",
        "ridiculo", "vergonha", "insatisfeit*", "descaso", "palhacada", "falta de respeito",
        "inaceptable", "peor", "harto", "harta", "verguenza", "insatisfech*", "fatal",
        "falta de respeto", "una burla",
        "ghatiya", "bekar", "bakwas", "bakwaas", "pareshan", "pareshaan", "tang aa",
        "bahut bura", "worst service",
    ),
    "no_response": _c(
        "no answer or a long wait",
        "no response", "no reply", "no answer", "nobody answers", "nobody replied", "ignored",
        "ignoring", "ignore*", "still waiting", "waiting for", "weeks", "days", "months",
        "again and again", "third time", "keep calling",
        "sem resposta", "ninguem responde", "ninguem me responde", "ignora*", "ainda esperando",
        "esperando", "semanas", "dias", "meses", "de novo", "terceira vez",
        "sin respuesta", "nadie responde", "nadie me responde", "sigo esperando", "otra vez",
        "tercera vez",
        "koi jawab nahi", "jawab nahi", "reply nahi", "response nahi", "wait kar", "hafte",
        "mahine", "din se", "baar baar", "kab tak",
    ),
    "escalate": _c(
        "going to a regulator, lawyer or the public",
        "regulator", "sec", "finra", "fca", "ombudsman", "lawyer", "attorney", "court",
        "sue", "lawsuit", "legal action", "file a complaint", "formal complaint", "complaint",
        "complain*", "report you", "report this", "social media", "twitter", "review",
        "consumer protection", "authorities",
        "cvm", "bacen", "banco central", "procon", "reclame aqui", "ouvidoria", "advogad*",
        "processar", "processo", "justica", "denunci*", "reclama*", "queixa*", "consumidor",
        "cnmv", "condusef", "abogad*", "demanda*", "tribunal", "queja*", "defensa del",
        "sebi", "rbi", "consumer forum", "consumer court", "shikayat", "complaint kar*",
        "case kar*", "vakil", "police complaint",
    ),
    "money_back": _c(
        "money back or a wrong charge",
        "refund*", "money back", "my money", "charged", "charge", "overcharged",
        "double charged", "hidden fee*", "fee", "fees", "unauthorized", "lost money",
        "reembols*", "estorno", "estornar", "devolu*", "meu dinheiro", "cobra*", "tarifa*",
        "taxa*", "nao autorizad*", "perdi dinheiro",
        "devuelv*", "mi dinero", "cobro*", "comision*", "no autorizad*", "perdi dinero",
        "paisa wapas", "paise wapas", "refund kar*", "charge kar*", "kat gaya", "kaat liya",
        "mera paisa",
    ),
    "leave": _c(
        "closing the account or leaving",
        "close my account", "cancel*", "leave", "leaving", "switch bank*", "take my business",
        "encerrar", "encerra*", "vou sair", "mudar de banco", "trocar de banco",
        "cerrar mi cuenta", "me voy", "cambiar de banco", "dar de baja",
        "account band", "account close", "band kar*", "chhod dunga", "chod dunga",
    ),
    # --- everyday business words the hard negatives share with the categories
    "draft_copy": _c(
        "a draft, duplicate or old version",
        "duplicate*", "draft*", "old version", "typo*", "slide*", "deck", "spam", "junk",
        "cache", "temp file*", "backup*", "copy", "extra copy", "wrong version",
        "duplicad*", "rascunho*", "versao antiga", "versao velha", "lixeira", "copia",
        "borrador*", "version vieja", "version antigua", "papelera",
        "purana version", "galat version", "extra copy",
    ),
    "delivery_warranty": _c(
        "a delivery, warranty or service promise",
        "delivery", "delivered", "shipping", "shipment", "warranty", "on time", "order",
        "parcel", "package", "courier", "tracking",
        "entrega*", "frete", "envio", "garantia de fabrica", "pedido*", "encomenda*", "prazo",
        "correios", "envio*", "paquete*", "mensajeria",
        "parcel aa", "order aa", "delivery ho", "courier aa",
    ),
    "network": _c(
        "signal strength, network or processing",
        "signal processing", "signal strength", "no signal", "bad signal", "network",
        "wifi", "coverage", "bars", "processing",
        "sinal", "sem sinal", "rede", "cobertura", "internet caiu",
        "senal", "sin senal", "red", "sin cobertura",
        "network nahi", "signal nahi", "range nahi", "net nahi",
    ),
    "meeting": _c(
        "a meeting or schedule",
        "meeting", "call at", "schedule*", "calendar", "agenda", "invite", "slot",
        "reuniao", "agendar", "horario",
        "reunion", "agendar", "horario", "cita",
        "meeting hai", "milte hai", "milte hain",
    ),
    "public_info": _c(
        "public information",
        "public", "published", "press", "news", "newspaper", "website", "annual report",
        "already announced", "on the website", "publicly",
        "publico", "publicado", "jornal", "noticia*", "site", "ja anunciado",
        "periodico", "pagina web", "ya anunciado",
        "news mein", "akhbaar", "sabko pata",
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Phrase:
    concept: str
    words: tuple[tuple[str, bool], ...]  # (word, is a stem) for each word of the phrase


def _phrase_words(phrase: str) -> tuple[tuple[str, bool], ...]:
    """A lexicon phrase as the words `word_tokens` gives: folded, split at what is not a letter
    or digit ("don't" -> "don", "t"); a `*` makes the word before it a stem."""
    out: list[tuple[str, bool]] = []
    for piece in fold(phrase).split():
        stem = piece.endswith("*")
        words = word_tokens(piece.rstrip("*"))
        out.extend((word, False) for word in words[:-1])
        if words:
            out.append((words[-1], stem and len(words[-1]) >= MIN_STEM))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _index() -> dict[str, tuple[_Phrase, ...]]:
    """Phrases by their first word: "word" for an exact first word, "stem*" for a stem."""
    index: dict[str, list[_Phrase]] = {}
    for concept, entry in CONCEPTS.items():
        for phrase in entry.phrases:
            words = _phrase_words(phrase)
            if not words:
                continue
            first, stem = words[0]
            index.setdefault(first + "*" if stem else first, []).append(_Phrase(concept, words))
    # One phrase written twice (or under two concepts) is matched once per concept.
    return {
        key: tuple({(p.concept, p.words): p for p in phrases}.values())
        for key, phrases in index.items()
    }


_Entry = tuple[tuple[str, ...], tuple[tuple[str, tuple[tuple[str, bool], ...]], ...]]
_NOTHING: _Entry = ((), ())


class ConceptMatcher:
    """Finds the lexicon's phrases in a list of words. What can start at each distinct word
    (the concepts of its one-word phrases, and the longer phrases with their remaining words)
    is worked out once and remembered: chat repeats its words, and most words start nothing."""

    MAX_CACHED_WORDS = 200_000

    def __init__(self) -> None:
        self._index = _index()
        self._cache: dict[str, _Entry] = {}

    def _entry(self, word: str) -> _Entry:
        index = self._index
        phrases = list(index.get(word, ()))
        for size in range(MIN_STEM, len(word) + 1):
            phrases.extend(index.get(word[:size] + "*", ()))
        singles = tuple(dict.fromkeys(p.concept for p in phrases if len(p.words) == 1))
        longer = tuple(
            (p.concept, p.words[1:])
            for p in phrases
            if len(p.words) > 1 and p.concept not in singles
        )
        entry = (singles, longer) if singles or longer else _NOTHING
        if len(self._cache) >= self.MAX_CACHED_WORDS:
            self._cache.clear()
        self._cache[word] = entry
        return entry

    def matches(self, words: list[str]) -> list[tuple[str, int, int]]:
        """(concept, first word, end word) for each phrase found; a concept is found once per
        starting word however many of its phrases start there."""
        out: list[tuple[str, int, int]] = []
        cache = self._cache
        count = len(words)
        for start, word in enumerate(words):
            entry = cache.get(word)
            if entry is None:
                entry = self._entry(word)
            if entry is _NOTHING:
                continue
            singles, longer = entry
            for concept in singles:
                out.append((concept, start, start + 1))
            found: list[str] = []
            for concept, rest in longer:
                end = start + 1 + len(rest)
                if end > count or concept in found:
                    continue
                at = start + 1
                for want, stem in rest:
                    if not (words[at].startswith(want) if stem else words[at] == want):
                        break
                    at += 1
                else:
                    found.append(concept)
                    out.append((concept, start, end))
        return out


@functools.lru_cache(maxsize=1)
def matcher() -> ConceptMatcher:
    return ConceptMatcher()


@dataclass(frozen=True, slots=True)
class ConceptGrams:
    """The concept block's analyzer: a token per concept found in the folded text (NEG_-marked
    when its first word is in a negator's scope), and with `pairs` a token per pair of distinct
    concepts of the message ("erase+record"). A class, not a closure, so the vectorizer pickles."""

    pairs: bool = True
    negation: bool = True

    def spans(self, folded: str) -> list[tuple[str, int, int]]:
        """(token, first word, end word) over the word block's words (`word_tokens`)."""
        found = matcher().matches(word_tokens(folded))
        if not found or not self.negation:
            return found
        # The same words, NEG_-marked in a negator's scope (None when there is no negator).
        marked = word_tokens(folded, negation=True)
        return [
            (NEGATED + concept if marked[start].startswith(NEGATED) else concept, start, end)
            for concept, start, end in found
        ]

    def __call__(self, folded: str) -> list[str]:
        found = [token for token, _, _ in self.spans(folded)]
        if not self.pairs or len(found) < 2:
            return found
        distinct = sorted(set(found))
        return [*found, *(a + PAIR + b for a, b in itertools.combinations(distinct, 2))]


def label(token: str) -> str:
    """The officers' words for a concept token ("erase+record" -> both labels)."""
    parts = token.split(PAIR)
    said = []
    for part in parts:
        negated = part.startswith(NEGATED)
        concept = CONCEPTS.get(part[len(NEGATED) :] if negated else part)
        if concept is not None:
            said.append(("not " if negated else "") + concept.label)
    return " + ".join(said)
