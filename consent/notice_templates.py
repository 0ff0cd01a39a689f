"""The default consent notice every new tenant starts with: English, Portuguese, Spanish, Hindi.

A pure module. Each text has a ``title`` and a plain-text ``body`` whose paragraphs are separated by
blank lines (the page renders it escaped, with line breaks). The only placeholder is ``{firm}``;
:func:`render_notice` fills it with ``str.replace``, so any other brace in a text a tenant edits is
shown as written.

The wording is a starting point for the firm's own counsel, not legal advice: it promises nothing
about employment consequences, names no legal basis, and states only what the product does
(capture after consent, no groups, retention under the firm's regulations, every access logged).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FIRM_PLACEHOLDER = "{firm}"

_EN_BODY = """\
Because you use WhatsApp Business to talk to clients, {firm} asks for your consent before it \
captures those conversations. Please read this notice before you decide.

What is captured
From the moment you give your consent, {firm} captures the WhatsApp Business messages sent and \
received on your work number, in both directions: text, photos, videos, documents, voice messages \
and other media, as well as edits, deletions, reactions and call records (when a call took place \
and how long it lasted). This covers everyone who writes to that number, not only clients, so \
please keep personal conversations off it. Nothing sent or received before your consent is kept.

What is not captured
Personal chats on any other number or app are not captured. Group chats are not captured either: \
WhatsApp does not make them available.

Why
{firm} works in a regulated industry. Its regulators, such as financial supervisors, require it to \
keep records of client communications and to supervise them, in order to detect misconduct, \
prevent leaks of confidential data and protect clients.

How the messages are used
Captured messages are stored in a secure archive that reveals any alteration, and they are scanned \
automatically against {firm}'s policies. Compliance officers review the messages the scanning \
flags. The scanning does not decide anything about you: a person decides what, if anything, \
follows from a flag.

Who can see them
Only compliance officers and auditors authorised by {firm} and, where the law requires it, \
regulators. Your colleagues and managers cannot see them unless they hold one of these roles. \
Every access is logged.

How long they are kept
For the retention period required by the regulations that apply to {firm}, typically five to \
seven years. They are then deleted, unless they must be kept longer for legal proceedings or an \
investigation.

Your rights
You can withdraw your consent at any time, through the link in your confirmation email or by \
asking your administrator. Withdrawal stops capture immediately. It does not delete messages that \
were already archived, because {firm} must keep them for the legal retention period. You also have \
the rights that the applicable data-protection law gives you, such as access to your personal data \
and its correction: for example under the LGPD in Brazil, the GDPR in Spain and the rest of the \
EU, or India's Digital Personal Data Protection Act. To exercise them, contact \
{firm}'s data protection officer or your administrator.

Your clients
{firm} tells its clients about the capture of these conversations in its own privacy notice.

Your decision
Consent is voluntary, on the terms set out in {firm}'s policy. If you decline, {firm} will explain \
which alternatives are available to you for client communication."""

# Portuguese agrees articles and adjectives with the firm's name ("o banco", "a corretora"), which
# a template cannot know: the name stands alone as a subject, and "a empresa" does the rest.
_PT_BR_BODY = """\
Como você usa o WhatsApp Business para falar com clientes, {firm} pede o seu consentimento antes \
de registrar essas conversas. Leia este aviso com atenção antes de decidir.

O que é registrado
A partir do seu consentimento, a empresa registra as mensagens do WhatsApp Business enviadas e \
recebidas no seu número de trabalho, nos dois sentidos: textos, fotos, vídeos, documentos, áudios \
e outros arquivos, além de edições, mensagens apagadas, reações e registros de chamadas (quando \
aconteceram e quanto duraram). Isso vale para qualquer pessoa que escreva para esse número, não só \
para clientes; por isso, evite usá-lo para conversas pessoais. Nada do que foi enviado ou recebido \
antes do consentimento é guardado.

O que não é registrado
Conversas pessoais em qualquer outro número ou aplicativo não são registradas. Conversas em grupo \
também não: o WhatsApp não as disponibiliza.

Por que o registro é necessário
{firm} atua em um setor regulado. Os reguladores, como as autoridades do mercado financeiro, \
exigem que a empresa guarde e supervisione as comunicações com clientes, para identificar condutas \
irregulares, evitar o vazamento de dados confidenciais e proteger os clientes.

Como as mensagens são usadas
As mensagens ficam em um arquivo seguro, que evidencia qualquer alteração, e são analisadas \
automaticamente conforme as políticas da empresa. A equipe de compliance revisa as mensagens \
sinalizadas. A análise automática não decide nada sobre você: cabe a uma pessoa decidir o que \
fazer com cada sinalização.

Quem pode ver as mensagens
Somente os profissionais de compliance e os auditores autorizados pela empresa e, quando a lei \
exigir, os órgãos reguladores. Seus colegas e gestores não podem vê-las, a menos que exerçam uma \
dessas funções. Todo acesso fica registrado.

Por quanto tempo são guardadas
Pelo prazo exigido pelas normas aplicáveis à empresa, normalmente de cinco a sete anos. Depois, \
são eliminadas, a não ser que um processo judicial ou uma investigação exija preservá-las.

Seus direitos
Você pode retirar o seu consentimento a qualquer momento, pelo link do e-mail de confirmação ou \
pedindo ao administrador. A retirada interrompe o registro na hora, mas não apaga as mensagens já \
arquivadas, que a empresa é obrigada por lei a guardar pelo prazo legal. Você também \
tem os direitos previstos na lei de proteção de dados aplicável, como o acesso aos seus dados \
pessoais e a correção deles: por exemplo, na LGPD no Brasil, no GDPR na Espanha e na União \
Europeia ou no DPDP Act da Índia. Para exercê-los, fale com o encarregado de proteção de dados \
da empresa ou com o administrador.

Seus clientes
A empresa informa os clientes sobre o registro dessas conversas por meio do aviso de \
privacidade da própria empresa.

Sua decisão
O consentimento é voluntário, nos termos da política da empresa. Se você não consentir, {firm} vai \
explicar quais alternativas estão disponíveis para você se comunicar com clientes."""

# "usted" and neutral vocabulary, so one text serves Spain and Latin America.
_ES_BODY = """\
Como usted utiliza WhatsApp Business para hablar con clientes, {firm} le pide su consentimiento \
antes de registrar esas conversaciones. Lea este aviso con atención antes de decidir.

Qué se registra
Desde que usted dé su consentimiento, {firm} registra los mensajes de WhatsApp Business enviados y \
recibidos en su número de trabajo, en ambos sentidos: textos, fotos, videos, documentos, notas de \
voz y otros archivos, además de las ediciones, los mensajes eliminados, las reacciones y los \
registros de llamadas (cuándo se hicieron y cuánto duraron). Esto incluye a cualquier persona que \
escriba a ese número, no solo a los clientes, así que conviene no usarlo para conversaciones \
personales. No se conserva nada anterior a su consentimiento.

Qué no se registra
No se registran los chats personales en otros números ni en otras aplicaciones. Tampoco los chats \
de grupo: WhatsApp no los pone a disposición.

Por qué
{firm} opera en un sector regulado. Sus reguladores, como los supervisores financieros, le exigen \
conservar y supervisar las comunicaciones con clientes, para detectar conductas indebidas, evitar \
fugas de datos confidenciales y proteger a los clientes.

Cómo se utilizan los mensajes
Los mensajes se guardan en un archivo seguro que deja constancia de cualquier alteración y se \
analizan automáticamente según las políticas de {firm}. El equipo de cumplimiento revisa los \
mensajes señalados. El análisis automático no decide nada sobre usted: es una persona quien decide \
qué hacer con cada alerta.

Quién puede verlos
Solo los responsables de cumplimiento y los auditores autorizados por {firm} y, cuando la ley lo \
exija, los reguladores. Sus compañeros y superiores no pueden verlos, salvo que desempeñen una de \
esas funciones. Cada acceso queda registrado.

Cuánto tiempo se conservan
Durante el plazo que exige la normativa aplicable a {firm}, normalmente entre cinco y siete años. \
Después se eliminan, salvo que un procedimiento judicial o una investigación obligue a conservarlos.

Sus derechos
Puede retirar su consentimiento en cualquier momento, con el enlace del correo de confirmación o \
pidiéndoselo al administrador. La retirada detiene el registro de inmediato, pero no borra los \
mensajes ya archivados, que {firm} tiene la obligación legal de conservar durante el plazo \
exigido. Además, tiene los derechos que le reconoce la ley de protección de datos aplicable, como \
el acceso a sus datos personales y su rectificación: por ejemplo, el RGPD en España y la Unión \
Europea, la LGPD en Brasil, la ley DPDP de la India o la ley de su país en América Latina. Para \
ejercerlos, diríjase al delegado de protección de datos de {firm} o al administrador.

Sus clientes
{firm} informa a los clientes del registro de estas conversaciones en su propio aviso de \
privacidad.

Su decisión
El consentimiento es voluntario, en los términos que establece la política de {firm}. Si no da su \
consentimiento, {firm} le explicará qué alternativas tiene a su disposición para comunicarse con \
clientes."""

# Hindi: the firm's name stays as written (Latin script is usual for firm names in Hindi text).
_HI_BODY = """\
आप ग्राहकों से बात करने के लिए WhatsApp Business का उपयोग करते हैं, इसलिए {firm} उन बातचीतों को \
कैप्चर करने से पहले आपकी सहमति माँगता है। निर्णय लेने से पहले कृपया यह सूचना पढ़ें।

क्या कैप्चर किया जाता है
जिस क्षण आप अपनी सहमति देते हैं, उसी क्षण से {firm} आपके काम के नंबर पर भेजे और प्राप्त किए गए \
WhatsApp Business संदेशों को दोनों दिशाओं में कैप्चर करता है: टेक्स्ट, फ़ोटो, वीडियो, दस्तावेज़, वॉइस \
संदेश और अन्य मीडिया, साथ ही संपादन, हटाए गए संदेश, प्रतिक्रियाएँ और कॉल का रिकॉर्ड (कॉल कब हुई और \
कितनी देर चली)। इसमें उस नंबर पर लिखने वाले सभी लोग शामिल हैं, केवल ग्राहक नहीं, इसलिए कृपया निजी \
बातचीत उस नंबर पर न करें। आपकी सहमति से पहले भेजा या प्राप्त किया गया कुछ भी नहीं रखा जाता।

क्या कैप्चर नहीं किया जाता
किसी अन्य नंबर या ऐप पर निजी चैट कैप्चर नहीं की जातीं। ग्रुप चैट भी कैप्चर नहीं की जातीं: WhatsApp \
उन्हें उपलब्ध नहीं कराता।

क्यों
{firm} एक विनियमित उद्योग में काम करता है। इसके नियामक, जैसे वित्तीय पर्यवेक्षक, इससे अपेक्षा करते \
हैं कि वह ग्राहकों के साथ हुए संचार का रिकॉर्ड रखे और उसकी निगरानी करे, ताकि कदाचार का पता लगाया जा \
सके, गोपनीय डेटा के लीक को रोका जा सके और ग्राहकों की रक्षा की जा सके।

संदेशों का उपयोग कैसे होता है
कैप्चर किए गए संदेश एक सुरक्षित संग्रह में रखे जाते हैं जो किसी भी बदलाव को उजागर कर देता है, और \
उन्हें {firm} की नीतियों के अनुसार स्वचालित रूप से जाँचा जाता है। अनुपालन अधिकारी उन संदेशों की \
समीक्षा करते हैं जिन्हें जाँच चिह्नित करती है। यह जाँच आपके बारे में कोई निर्णय नहीं लेती: किसी \
चिह्न के बाद क्या होगा, यदि कुछ होगा, यह एक व्यक्ति तय करता है।

उन्हें कौन देख सकता है
केवल {firm} द्वारा अधिकृत अनुपालन अधिकारी और लेखा परीक्षक, और जहाँ कानून इसकी माँग करता है, \
नियामक। आपके सहकर्मी और प्रबंधक उन्हें तब तक नहीं देख सकते जब तक उनके पास इनमें से कोई भूमिका न \
हो। हर पहुँच दर्ज की जाती है।

उन्हें कितने समय तक रखा जाता है
{firm} पर लागू नियमों द्वारा अपेक्षित अवधि तक, आम तौर पर पाँच से सात वर्ष। उसके बाद उन्हें हटा दिया \
जाता है, जब तक कि कानूनी कार्यवाही या किसी जाँच के लिए उन्हें अधिक समय तक रखना आवश्यक न हो।

आपके अधिकार
आप किसी भी समय अपनी सहमति वापस ले सकते हैं, अपने पुष्टि ईमेल में दिए गए लिंक से या अपने \
व्यवस्थापक से कहकर। सहमति वापस लेते ही कैप्चर तुरंत रुक जाता है। इससे पहले से संग्रहीत संदेश नहीं \
हटते, क्योंकि {firm} को उन्हें कानूनी अवधि तक रखना होता है। लागू डेटा-संरक्षण कानून आपको जो अधिकार \
देता है, जैसे अपने व्यक्तिगत डेटा तक पहुँच और उसमें सुधार, वे भी आपके पास हैं: उदाहरण के लिए भारत \
का डिजिटल व्यक्तिगत डेटा संरक्षण अधिनियम, ब्राज़ील का LGPD, या स्पेन और शेष यूरोपीय संघ का GDPR। \
इनका उपयोग करने के लिए {firm} के डेटा संरक्षण अधिकारी या अपने व्यवस्थापक से संपर्क करें।

आपके ग्राहक
{firm} अपने ग्राहकों को अपनी गोपनीयता सूचना में इन बातचीतों के कैप्चर के बारे में बताता है।

आपका निर्णय
सहमति स्वैच्छिक है, {firm} की नीति में बताई गई शर्तों पर। यदि आप अस्वीकार करते हैं, तो {firm} आपको \
बताएगा कि ग्राहकों से संवाद के लिए आपके पास कौन-से विकल्प उपलब्ध हैं।"""

DEFAULT_NOTICE: dict[str, dict[str, str]] = {
    "en": {
        "title": "WhatsApp Business monitoring notice — {firm}",
        "body": _EN_BODY,
    },
    "pt-br": {
        "title": "Aviso de monitoramento do WhatsApp Business — {firm}",
        "body": _PT_BR_BODY,
    },
    "es": {
        "title": "Aviso de supervisión de WhatsApp Business — {firm}",
        "body": _ES_BODY,
    },
    "hi": {
        "title": "WhatsApp Business निगरानी सूचना — {firm}",
        "body": _HI_BODY,
    },
}
# The languages the shipped notice is written in (settings.LANGUAGES is the list of the product's
# languages; a test keeps the two equal, since this module stays free of Django).
LANGUAGES = tuple(DEFAULT_NOTICE)


def render_notice(texts: Mapping[str, Any], *, firm_name: str) -> dict[str, Any]:
    """Return a copy of ``texts`` with ``{firm}`` replaced by ``firm_name`` in every string.

    ``texts`` is one language's ``{"title": ..., "body": ...}``, or a mapping of such (e.g.
    ``DEFAULT_NOTICE``), rendered recursively. Only ``{firm}`` is touched: other braces stay as
    written, and a ``{firm}`` inside ``firm_name`` is not expanded again. Non-string values are
    copied unchanged; the input is not modified.
    """
    rendered: dict[str, Any] = {}
    for key, value in texts.items():
        if isinstance(value, str):
            rendered[key] = value.replace(FIRM_PLACEHOLDER, firm_name)
        elif isinstance(value, Mapping):
            rendered[key] = render_notice(value, firm_name=firm_name)
        else:
            rendered[key] = value
    return rendered
