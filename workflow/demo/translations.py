"""The demo's reference data in the partners' languages: English text → (sv, fr, es, lv).

Countries, themes, the rubric, the survey (each choice on its own) and the call are
shown in the reader's language (nominations/translation.py); the demo fills every
language in, as a call's organisers would in the admin.
"""

#: English text → (Swedish, French, Spanish, Latvian).
TRANSLATIONS = {
    # --- countries
    "Spain": ("Spanien", "Espagne", "España", "Spānija"),
    "France": ("Frankrike", "France", "Francia", "Francija"),
    "Latvia": ("Lettland", "Lettonie", "Letonia", "Latvija"),
    "Sweden": ("Sverige", "Suède", "Suecia", "Zviedrija"),
    # --- themes
    "Spatial segregation": (
        "Rumslig segregation",
        "Ségrégation spatiale",
        "Segregación espacial",
        "Telpiskā segregācija",
    ),
    "Neighbourhoods divided by income, origin or housing tenure, and what bridges them.": (
        "Bostadsområden som delas av inkomst, ursprung eller upplåtelseform – och det som "
        "överbryggar klyftorna.",
        "Des quartiers divisés par le revenu, l'origine ou le statut d'occupation du logement, "
        "et ce qui les relie.",
        "Barrios divididos por la renta, el origen o el régimen de tenencia de la vivienda, y "
        "lo que tiende puentes entre ellos.",
        "Apkaimes, ko šķir ienākumi, izcelsme vai mājokļa īpašuma forma, un tas, kas tās savieno.",
    ),
    "Social exclusion": (
        "Social utestängning",
        "Exclusion sociale",
        "Exclusión social",
        "Sociālā atstumtība",
    ),
    "People shut out of work, services, networks or decisions, and ways back in.": (
        "Människor som stängs ute från arbete, samhällsservice, nätverk eller beslut – och "
        "vägarna tillbaka.",
        "Des personnes tenues à l'écart du travail, des services, des réseaux ou des "
        "décisions, et les chemins pour y revenir.",
        "Personas excluidas del empleo, los servicios, las redes o las decisiones, y los "
        "caminos de vuelta.",
        "Cilvēki, kas atstumti no darba, pakalpojumiem, kontaktu tīkliem vai lēmumiem, un ceļi "
        "atpakaļ.",
    ),
    "Energy poverty": (
        "Energifattigdom",
        "Précarité énergétique",
        "Pobreza energética",
        "Enerģētiskā nabadzība",
    ),
    "Households unable to heat, cool or light their homes at an affordable cost.": (
        "Hushåll som inte har råd att värma, kyla eller lysa upp sina hem.",
        "Des ménages qui ne peuvent pas chauffer, rafraîchir ou éclairer leur logement à un "
        "coût abordable.",
        "Hogares que no pueden calentar, refrescar o iluminar su vivienda a un coste asequible.",
        "Mājsaimniecības, kas nespēj par pieņemamu cenu apsildīt, atvēsināt vai apgaismot savu "
        "mājokli.",
    ),
    "Climate adaptation": (
        "Klimatanpassning",
        "Adaptation au changement climatique",
        "Adaptación al cambio climático",
        "Pielāgošanās klimata pārmaiņām",
    ),
    "Making places and communities ready for heat, floods and drought, fairly.": (
        "Att rusta platser och lokalsamhällen för värmeböljor, översvämningar och torka – på "
        "ett rättvist sätt.",
        "Préparer les territoires et leurs habitants à la chaleur, aux inondations et à la "
        "sécheresse, de manière équitable.",
        "Preparar lugares y comunidades para el calor, las inundaciones y la sequía, de forma "
        "justa.",
        "Taisnīgi sagatavot vietas un kopienas karstumam, plūdiem un sausumam.",
    ),
    "Inclusive labour markets": (
        "Inkluderande arbetsmarknad",
        "Marché du travail inclusif",
        "Mercados laborales inclusivos",
        "Iekļaujošs darba tirgus",
    ),
    "Routes into decent work for people far from the labour market.": (
        "Vägar till ett anständigt arbete för människor som står långt från arbetsmarknaden.",
        "Des parcours vers un emploi décent pour les personnes éloignées du marché du travail.",
        "Itinerarios hacia un empleo digno para personas alejadas del mercado laboral.",
        "Ceļi uz pienācīgu darbu cilvēkiem, kuri ir tālu no darba tirgus.",
    ),
    "Community participation": (
        "Medborgardeltagande",
        "Participation citoyenne",
        "Participación comunitaria",
        "Kopienas līdzdalība",
    ),
    "Residents shaping the decisions and places that affect them.": (
        "Invånare som formar de beslut och platser som berör dem.",
        "Des habitants qui façonnent les décisions et les lieux qui les concernent.",
        "Vecinos y vecinas que dan forma a las decisiones y a los lugares que les afectan.",
        "Iedzīvotāji, kas veido lēmumus un vietas, kuras viņus skar.",
    ),
    "Affordable housing": (
        "Bostäder till rimliga kostnader",
        "Logement abordable",
        "Vivienda asequible",
        "Pieejami mājokļi",
    ),
    "Homes people on low and middle incomes can afford and keep.": (
        "Bostäder som människor med låga och medelhöga inkomster har råd med och kan behålla.",
        "Des logements que les ménages aux revenus modestes et moyens peuvent payer et garder.",
        "Viviendas que las personas con ingresos bajos y medios pueden pagar y conservar.",
        "Mājokļi, ko cilvēki ar zemiem un vidējiem ienākumiem var atļauties un saglabāt.",
    ),
    # --- the rubric
    "Innovation": ("Innovation", "Innovation", "Innovación", "Inovācija"),
    "What is new here, compared with what is usually done in the country or sector?": (
        "Vad är nytt här, jämfört med hur man brukar arbeta i landet eller sektorn?",
        "Qu'est-ce qui est nouveau ici, par rapport à ce qui se fait d'habitude dans le pays "
        "ou le secteur ?",
        "¿Qué aporta de nuevo frente a lo que se suele hacer en el país o en el sector?",
        "Kas te ir jauns salīdzinājumā ar to, kā parasti rīkojas valstī vai nozarē?",
    ),
    "Impact and evidence": (
        "Effekter och belägg",
        "Impact et preuves",
        "Impacto y evidencias",
        "Ietekme un pierādījumi",
    ),
    "What changed for the target group, and how well is it shown (data, evaluation, testimony)?": (
        "Vad förändrades för målgruppen, och hur väl visas det (data, utvärdering, vittnesmål)?",
        "Qu'est-ce qui a changé pour le public visé, et avec quelle solidité est-ce démontré "
        "(données, évaluation, témoignages) ?",
        "¿Qué cambió para el grupo destinatario y con qué solidez se demuestra (datos, "
        "evaluación, testimonios)?",
        "Kas mērķgrupai ir mainījies, un cik pārliecinoši tas ir parādīts (dati, izvērtējums, "
        "liecības)?",
    ),
    "Sustainability and longevity": (
        "Hållbarhet och varaktighet",
        "Durabilité et pérennité",
        "Sostenibilidad y continuidad",
        "Ilgtspēja un noturība",
    ),
    "Has the practice lasted, and can it keep going: funding, ownership, staff, partners?": (
        "Har praktiken bestått, och kan den fortsätta: finansiering, ägarskap, personal, partner?",
        "La pratique a-t-elle duré, et peut-elle continuer : financement, portage, personnel, "
        "partenaires ?",
        "¿Ha perdurado la práctica y puede seguir adelante: financiación, titularidad, "
        "personal, socios?",
        "Vai prakse ir noturējusies un vai tā var turpināties: finansējums, atbildība, "
        "darbinieki, partneri?",
    ),
    "Transferability": ("Överförbarhet", "Transférabilité", "Transferibilidad", "Pārnesamība"),
    "Could another country or city adopt it? What would it need, and what would have to change?": (
        "Skulle ett annat land eller en annan stad kunna införa den? Vad skulle krävas, och "
        "vad skulle behöva ändras?",
        "Un autre pays ou une autre ville pourrait-il l'adopter ? De quoi aurait-il besoin, et "
        "qu'est-ce qui devrait changer ?",
        "¿Podría adoptarla otro país u otra ciudad? ¿Qué necesitaría y qué tendría que cambiar?",
        "Vai to varētu pārņemt cita valsts vai pilsēta? Kas tam būtu vajadzīgs, un kam būtu "
        "jāmainās?",
    ),
    "Relevance to the call's themes": (
        "Relevans för utlysningens teman",
        "Pertinence au regard des thèmes de l'appel",
        "Pertinencia para los temas de la convocatoria",
        "Atbilstība konkursa tēmām",
    ),
    "How directly does it address spatial segregation, social exclusion or the other themes?": (
        "Hur direkt tar den sig an rumslig segregation, social utestängning eller de andra temana?",
        "Dans quelle mesure s'attaque-t-elle directement à la ségrégation spatiale, à "
        "l'exclusion sociale ou aux autres thèmes ?",
        "¿En qué medida aborda directamente la segregación espacial, la exclusión social u "
        "otros temas?",
        "Cik tieši tā risina telpisko segregāciju, sociālo atstumtību vai citas tēmas?",
    ),
    # --- the survey
    "Where does the practice run?": (
        "Var bedrivs praktiken?",
        "Où la pratique est-elle mise en œuvre ?",
        "¿Dónde se desarrolla la práctica?",
        "Kur prakse tiek īstenota?",
    ),
    "Municipality, district or region, e.g. “Rosengård, Malmö”.": (
        "Kommun, stadsdel eller region, t.ex. ”Rosengård, Malmö”.",
        "Commune, quartier ou région, par exemple « Rosengård, Malmö ».",
        "Municipio, distrito o región, p. ej., «Rosengård, Malmö».",
        "Pašvaldība, apkaime vai reģions, piemēram, “Rosengård, Malmö”.",
    ),
    "How do the people the practice serves take part in running it?": (
        "Hur deltar de människor som praktiken riktar sig till i att driva den?",
        "Comment les personnes auxquelles s'adresse la pratique participent-elles à sa conduite ?",
        "¿Cómo participan en su gestión las personas a las que se dirige la práctica?",
        "Kā cilvēki, kuriem prakse ir paredzēta, piedalās tās īstenošanā?",
    ),
    "Co-design, paid roles, boards, feedback rounds… A few sentences are enough.": (
        "Samskapande, avlönade roller, styrelser, återkopplingsrundor … Några meningar räcker.",
        "Co-conception, postes rémunérés, instances de décision, retours réguliers… Quelques "
        "phrases suffisent.",
        "Codiseño, puestos remunerados, órganos de gobierno, rondas de opinión… Bastan unas "
        "pocas frases.",
        "Kopīga izstrāde, apmaksāti amati, valdes, atgriezeniskās saites kārtas… Pietiek ar "
        "dažiem teikumiem.",
    ),
    "At what scale does the practice run today?": (
        "I vilken skala bedrivs praktiken i dag?",
        "À quelle échelle la pratique est-elle mise en œuvre aujourd'hui ?",
        "¿A qué escala se desarrolla hoy la práctica?",
        "Kādā mērogā prakse darbojas šobrīd?",
    ),
    "Choose the largest scale it reaches.": (
        "Välj den största skala som den når.",
        "Choisissez la plus grande échelle atteinte.",
        "Elija la mayor escala que alcanza.",
        "Izvēlieties lielāko mērogu, ko tā aptver.",
    ),
    "Neighbourhood": ("Bostadsområde", "Quartier", "Barrio", "Apkaime"),
    "Municipality": ("Kommun", "Commune", "Municipio", "Pašvaldība"),
    "Region": ("Region", "Région", "Región", "Reģions"),
    "Whole country": ("Hela landet", "Tout le pays", "Todo el país", "Visa valsts"),
    "Several countries": ("Flera länder", "Plusieurs pays", "Varios países", "Vairākas valstis"),
    "Who funds the practice?": (
        "Vem finansierar praktiken?",
        "Qui finance la pratique ?",
        "¿Quién financia la práctica?",
        "Kas finansē praksi?",
    ),
    "Tick every source that pays for at least a tenth of the running costs.": (
        "Kryssa i varje källa som står för minst en tiondel av driftskostnaderna.",
        "Cochez chaque source qui couvre au moins un dixième des coûts de fonctionnement.",
        "Marque cada fuente que cubra al menos una décima parte de los costes de funcionamiento.",
        "Atzīmējiet katru avotu, kas sedz vismaz desmito daļu no darbības izmaksām.",
    ),
    "Municipal budget": (
        "Kommunal budget",
        "Budget communal",
        "Presupuesto municipal",
        "Pašvaldības budžets",
    ),
    "National public funds": (
        "Statliga medel",
        "Fonds publics nationaux",
        "Fondos públicos estatales",
        "Valsts budžeta līdzekļi",
    ),
    "EU funds": ("EU-medel", "Fonds européens", "Fondos de la UE", "ES fondi"),
    "Private foundations": (
        "Privata stiftelser",
        "Fondations privées",
        "Fundaciones privadas",
        "Privāti fondi",
    ),
    "Earned income (sales, fees)": (
        "Egna intäkter (försäljning, avgifter)",
        "Recettes propres (ventes, participations)",
        "Ingresos propios (ventas, cuotas)",
        "Pašu ieņēmumi (pārdošana, maksas)",
    ),
    "Volunteer time": ("Ideellt arbete", "Bénévolat", "Voluntariado", "Brīvprātīgo darbs"),
    "About how many people did the practice reach in the last 12 months?": (
        "Ungefär hur många människor nådde praktiken under de senaste 12 månaderna?",
        "Environ combien de personnes la pratique a-t-elle touchées au cours des 12 derniers "
        "mois ?",
        "¿A cuántas personas llegó aproximadamente la práctica en los últimos 12 meses?",
        "Aptuveni cik cilvēkus prakse sasniedza pēdējo 12 mēnešu laikā?",
    ),
    "Direct participants only; an estimate is fine.": (
        "Endast direkta deltagare; en uppskattning räcker.",
        "Participants directs uniquement ; une estimation suffit.",
        "Solo participantes directos; basta con una estimación.",
        "Tikai tiešie dalībnieki; pietiek ar aptuvenu skaitu.",
    ),
    "Annual running budget, in euros": (
        "Årlig driftsbudget, i euro",
        "Budget de fonctionnement annuel, en euros",
        "Presupuesto anual de funcionamiento, en euros",
        "Gada darbības budžets, eiro",
    ),
    "Optional. Helps others judge what it would cost to adopt.": (
        "Frivilligt. Hjälper andra att bedöma vad det skulle kosta att införa den.",
        "Facultatif. Aide les autres à estimer ce que coûterait son adoption.",
        "Opcional. Ayuda a otros a valorar lo que costaría adoptarla.",
        "Nav obligāti. Palīdz citiem novērtēt, cik izmaksātu to pārņemt.",
    ),
    "Has the practice been evaluated by someone outside the organisation?": (
        "Har praktiken utvärderats av någon utanför organisationen?",
        "La pratique a-t-elle été évaluée par quelqu'un d'extérieur à l'organisation ?",
        "¿Ha evaluado la práctica alguien ajeno a la organización?",
        "Vai praksi ir izvērtējis kāds ārpus organizācijas?",
    ),
    "For example a university, an audit office or a commissioned evaluator.": (
        "Till exempel ett universitet, en revisionsmyndighet eller en anlitad utvärderare.",
        "Par exemple une université, une chambre des comptes ou un évaluateur mandaté.",
        "Por ejemplo, una universidad, un tribunal de cuentas o un evaluador contratado.",
        "Piemēram, universitāte, revīzijas iestāde vai pieaicināts izvērtētājs.",
    ),
    "Would you host a study visit from another partner country?": (
        "Kan ni ta emot ett studiebesök från ett annat partnerland?",
        "Accueilleriez-vous une visite d'étude venue d'un autre pays partenaire ?",
        "¿Acogerían una visita de estudio de otro país socio?",
        "Vai jūs uzņemtu mācību vizīti no citas partnervalsts?",
    ),
    "Selected practices may be visited by peers in the transnational showcase.": (
        "Utvalda praktiker kan få besök av kollegor från andra länder inom den "
        "transnationella presentationen.",
        "Les pratiques sélectionnées peuvent recevoir la visite de pairs dans le cadre de la "
        "vitrine transnationale.",
        "Las prácticas seleccionadas pueden recibir la visita de homólogos en el marco de la "
        "muestra transnacional.",
        "Atlasītās prakses transnacionālās skates ietvaros var apmeklēt kolēģi no citām valstīm.",
    ),
    # --- the call
    "Best practices in social innovation 2027": (
        "Goda exempel på social innovation 2027",
        "Bonnes pratiques d'innovation sociale 2027",
        "Buenas prácticas de innovación social 2027",
        "Sociālās inovācijas labās prakses 2027",
    ),
    (
        "Partners in Spain, France, Latvia and Sweden are looking for tools, methods, "
        "programmes and approaches that reduce spatial segregation and social exclusion, "
        "or tackle another sustainability challenge in a socially fair way. Selected "
        "practices are presented in the national and transnational showcases and in the "
        "public knowledge hub."
    ): (
        "Partner i Spanien, Frankrike, Lettland och Sverige söker verktyg, metoder, program "
        "och arbetssätt som minskar rumslig segregation och social utestängning, eller som tar "
        "sig an en annan hållbarhetsutmaning på ett socialt rättvist sätt. Utvalda praktiker "
        "presenteras i de nationella och transnationella presentationerna och i den öppna "
        "kunskapsbanken.",
        "Des partenaires en Espagne, en France, en Lettonie et en Suède recherchent des "
        "outils, des méthodes, des programmes et des approches qui réduisent la ségrégation "
        "spatiale et l'exclusion sociale, ou qui relèvent un autre défi de durabilité de "
        "manière socialement juste. Les pratiques sélectionnées sont présentées dans les "
        "vitrines nationales et transnationale ainsi que dans le centre de ressources public.",
        "Socios de España, Francia, Letonia y Suecia buscan herramientas, métodos, programas "
        "y enfoques que reduzcan la segregación espacial y la exclusión social, o que afronten "
        "otro reto de sostenibilidad de forma socialmente justa. Las prácticas seleccionadas "
        "se presentan en las muestras nacionales y transnacional y en el centro público de "
        "conocimiento.",
        "Partneri Spānijā, Francijā, Latvijā un Zviedrijā meklē rīkus, metodes, programmas un "
        "pieejas, kas mazina telpisko segregāciju un sociālo atstumtību vai sociāli taisnīgā "
        "veidā risina kādu citu ilgtspējas izaicinājumu. Atlasītās prakses tiek prezentētas "
        "nacionālajās skatēs un transnacionālajā skatē, kā arī publiskajā zināšanu centrā.",
    ),
}

#: The order of the tuples above.
LANGUAGES = ("sv", "fr", "es", "lv")


def in_every_language(field, english):
    """``{field}_en`` … ``{field}_lv`` for one demo text; a text of several lines (a
    question's choices) is translated line by line."""
    values = {f"{field}_en": english}
    for index, code in enumerate(LANGUAGES):
        if "\n" in english:
            text = "\n".join(TRANSLATIONS[line][index] for line in english.splitlines())
        else:
            text = TRANSLATIONS[english][index] if english else ""
        values[f"{field}_{code}"] = text
    return values
