"""The demo's data: a call, its rubric and survey, its people and six practices.

Plain values only; ``workflow.demo`` turns them into rows by the product's own services.
"""

from decimal import Decimal

from nominations.models import Nomination, SurveyQuestion

DEMO_CALL_TITLE = "Best practices in social innovation 2027"
DEMO_CALL_DESCRIPTION = (
    "Partners in Spain, France, Latvia and Sweden are looking for tools, methods, "
    "programmes and approaches that reduce spatial segregation and social exclusion, "
    "or tackle another sustainability challenge in a socially fair way. Selected "
    "practices are presented in the national and transnational showcases and in the "
    "public knowledge hub."
)
DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - published demo password, never production
DOMAIN = "nomflow.test"
# Coordinators, leads and admins must sign in with a second factor. The demo's have an
# authenticator app set up with this published key: add it to any app (or use
# demo_totp_url) to get their codes. Never use it outside the demo.
DEMO_TOTP_SECRET = "NOMFLOWDEMOKEYNOMFLOWDEMOKEY2345"  # noqa: S105 - published demo key

COUNTRIES = [("ES", "Spain"), ("FR", "France"), ("LV", "Latvia"), ("SE", "Sweden")]

THEMES = [
    # (name, is_priority, description)
    (
        "Spatial segregation",
        True,
        "Neighbourhoods divided by income, origin or housing tenure, and what bridges them.",
    ),
    (
        "Social exclusion",
        True,
        "People shut out of work, services, networks or decisions, and ways back in.",
    ),
    (
        "Energy poverty",
        False,
        "Households unable to heat, cool or light their homes at an affordable cost.",
    ),
    (
        "Climate adaptation",
        False,
        "Making places and communities ready for heat, floods and drought, fairly.",
    ),
    (
        "Inclusive labour markets",
        False,
        "Routes into decent work for people far from the labour market.",
    ),
    (
        "Community participation",
        False,
        "Residents shaping the decisions and places that affect them.",
    ),
    ("Affordable housing", False, "Homes people on low and middle incomes can afford and keep."),
]

CRITERIA = [
    # (title, description, weight)
    (
        "Innovation",
        "What is new here, compared with what is usually done in the country or sector?",
        Decimal("1"),
    ),
    (
        "Impact and evidence",
        "What changed for the target group, and how well is it shown "
        "(data, evaluation, testimony)?",
        Decimal("1"),
    ),
    (
        "Sustainability and longevity",
        "Has the practice lasted, and can it keep going: funding, ownership, staff, partners?",
        Decimal("1.5"),
    ),
    (
        "Transferability",
        "Could another country or city adopt it? "
        "What would it need, and what would have to change?",
        Decimal("1"),
    ),
    (
        "Relevance to the call's themes",
        "How directly does it address spatial segregation, social exclusion or the other themes?",
        Decimal("1"),
    ),
]

#: The survey, keyed by a name the demo nominations use for their answers.
QUESTIONS = [
    {
        "key": "place",
        "text": "Where does the practice run?",
        "help_text": "Municipality, district or region, e.g. “Rosengård, Malmö”.",
        "kind": SurveyQuestion.Kind.SHORT_TEXT,
        "required": True,
    },
    {
        "key": "participation",
        "text": "How do the people the practice serves take part in running it?",
        "help_text": "Co-design, paid roles, boards, feedback rounds… A few sentences are enough.",
        "kind": SurveyQuestion.Kind.LONG_TEXT,
        "required": True,
    },
    {
        "key": "scale",
        "text": "At what scale does the practice run today?",
        "help_text": "Choose the largest scale it reaches.",
        "kind": SurveyQuestion.Kind.SINGLE_CHOICE,
        "required": True,
        "choices": [
            "Neighbourhood",
            "Municipality",
            "Region",
            "Whole country",
            "Several countries",
        ],
    },
    {
        "key": "funding",
        "text": "Who funds the practice?",
        "help_text": "Tick every source that pays for at least a tenth of the running costs.",
        "kind": SurveyQuestion.Kind.MULTIPLE_CHOICE,
        "required": True,
        "choices": [
            "Municipal budget",
            "National public funds",
            "EU funds",
            "Private foundations",
            "Earned income (sales, fees)",
            "Volunteer time",
        ],
    },
    {
        "key": "reach",
        "text": "About how many people did the practice reach in the last 12 months?",
        "help_text": "Direct participants only; an estimate is fine.",
        "kind": SurveyQuestion.Kind.NUMBER,
        "required": True,
    },
    {
        "key": "budget",
        "text": "Annual running budget, in euros",
        "help_text": "Optional. Helps others judge what it would cost to adopt.",
        "kind": SurveyQuestion.Kind.NUMBER,
        "required": False,
    },
    {
        "key": "evaluated",
        "text": "Has the practice been evaluated by someone outside the organisation?",
        "help_text": "For example a university, an audit office or a commissioned evaluator.",
        "kind": SurveyQuestion.Kind.YES_NO,
        "required": False,
    },
    {
        "key": "study_visit",
        "text": "Would you host a study visit from another partner country?",
        "help_text": "Selected practices may be visited by peers in the transnational showcase.",
        "kind": SurveyQuestion.Kind.YES_NO,
        "required": True,
    },
]

# --- people --------------------------------------------------------------------------

ADMIN = ("admin", "Alex", "Morgan")
LEAD = ("lead", "Helena", "Brandt")
COORDINATORS = {
    "ES": ("coordinator.es", "Marta", "Ruiz Ortega"),
    "FR": ("coordinator.fr", "Julien", "Moreau"),
    "LV": ("coordinator.lv", "Ilze", "Kalniņa"),
    "SE": ("coordinator.se", "Erik", "Lindberg"),
}
REVIEWERS = [
    # (local part, first, last, country, organisation, languages, expertise themes)
    (
        "reviewer.es1",
        "Javier",
        "Morales",
        "ES",
        "Universidad de Sevilla",
        ["en", "es"],
        ["Spatial segregation", "Affordable housing", "Community participation"],
    ),
    (
        "reviewer.es2",
        "Núria",
        "Puig",
        "ES",
        "Observatori de la Innovació Social de Catalunya",
        ["en", "es", "ca", "fr"],
        ["Social exclusion", "Inclusive labour markets"],
    ),
    (
        "reviewer.fr1",
        "Camille",
        "Laurent",
        "FR",
        "Université Lumière Lyon 2",
        ["en", "fr", "es"],
        ["Affordable housing", "Spatial segregation"],
    ),
    (
        "reviewer.fr2",
        "Thomas",
        "Girard",
        "FR",
        "Agence régionale de l'énergie Occitanie",
        ["en", "fr"],
        ["Energy poverty", "Climate adaptation"],
    ),
    (
        "reviewer.lv1",
        "Anna",
        "Bērziņa",
        "LV",
        "Latvijas Universitāte",
        ["en", "lv"],
        ["Social exclusion", "Inclusive labour markets", "Community participation"],
    ),
    (
        "reviewer.lv2",
        "Māris",
        "Ozols",
        "LV",
        "Latvijas Lauku forums",
        ["en", "lv", "sv"],
        ["Community participation", "Energy poverty"],
    ),
    (
        "reviewer.se1",
        "Sara",
        "Nilsson",
        "SE",
        "Malmö universitet",
        ["en", "sv", "fr"],
        ["Spatial segregation", "Social exclusion"],
    ),
    (
        "reviewer.se2",
        "Johan",
        "Berg",
        "SE",
        "Boverket",
        ["en", "sv"],
        ["Affordable housing", "Climate adaptation"],
    ),
]
NOMINATORS = [
    ("nominator", "Lina", "Andersson"),
    ("nominator2", "Pablo", "García"),
]


# --- the practices ---------------------------------------------------------------------

PRACTICES = {
    "se_mentoring": {
        "fields": {
            "title": "Grannmentorer – neighbourhood mentors across the city",
            "kind": Nomination.Kind.PROGRAMME,
            "organisation": "Stiftelsen Grannskap Malmö",
            "organisation_sector": Nomination.Sector.CIVIL_SOCIETY,
            "language": "sv",
            "summary": (
                "Grannmentorer parar ihop unga vuxna och nyanlända familjer i Rosengård och "
                "Holma med mentorer som bor i andra stadsdelar. Under ett år träffas de varannan "
                "vecka: läxhjälp, föreningsliv, sommarjobb och besök i varandras områden."
            ),
            "english_summary": (
                "Grannmentorer pairs young adults and newly arrived families in Rosengård and "
                "Holma with volunteer mentors who live in other parts of Malmö. For a year they "
                "meet every other week: homework help, sports clubs, summer jobs and visits to "
                "each other's neighbourhoods."
            ),
            "problem": (
                "Malmö is one of Europe's most segregated cities: children in Rosengård rarely "
                "meet peers from the city centre or Limhamn, and their parents' networks hold "
                "few contacts into work. Segregation by housing becomes segregation of contacts."
            ),
            "target_group": (
                "Young people aged 15–25 and families who arrived in Sweden in the last five "
                "years, living in the city's most deprived districts."
            ),
            "results": (
                "1,140 mentor pairs since 2016. A 2023 evaluation by Malmö universitet found "
                "that mentees were 18 percentage points more likely to be in work or study a "
                "year after the programme than a matched comparison group, and 71 % of pairs "
                "kept in touch after the formal year."
            ),
            "year_started": 2016,
            "transferability": (
                "Needs a coordinating organisation, a volunteer pool and links with schools. The "
                "matching guide and training modules are translated into English; Göteborg and "
                "Örebro have started their own versions."
            ),
            "links": "https://grannmentorer.example.se\nhttps://grannmentorer.example.se/utvardering-2023.pdf",
            "contact_name": "Amira Haddad",
            "contact_email": "amira.haddad@grannmentorer.example.se",
            "consent_to_publish": True,
        },
        "themes": ["Spatial segregation", "Social exclusion", "Community participation"],
        "answers": {
            "place": "Rosengård and Holma, Malmö",
            "participation": (
                "Former mentees sit on the steering group and train new mentors; each pair "
                "plans its own meetings."
            ),
            "scale": "Municipality",
            "funding": ["Municipal budget", "Private foundations", "Volunteer time"],
            "reach": 260,
            "budget": 310000,
            "evaluated": True,
            "study_visit": True,
        },
    },
    "lv_social_enterprise": {
        "fields": {
            "title": "Ciema darbnīca – the village workshop method for rural social enterprises",
            "kind": Nomination.Kind.METHOD,
            "organisation": "Biedrība “Latgales ciemu tīkls”",
            "organisation_sector": Nomination.Sector.CIVIL_SOCIETY,
            "language": "lv",
            "summary": (
                "Ciema darbnīca ir metode, ar kuru ciema iedzīvotāji sešos mēnešos izveido "
                "sociālo uzņēmumu, kas nodarbina cilvēkus ar invaliditāti un ilgstošus "
                "bezdarbniekus: kopīga vajadzību karte, pilotprojekts un mentors no esoša "
                "sociālā uzņēmuma."
            ),
            "english_summary": (
                "The village workshop is a six-month method by which residents of a rural "
                "village set up a social enterprise employing people with disabilities and the "
                "long-term unemployed: a shared map of local needs, a small pilot, and a mentor "
                "from an existing social enterprise."
            ),
            "problem": (
                "In Latgale, unemployment is twice the national average and public services "
                "have moved to regional centres. People with disabilities in villages have "
                "almost no local work and long journeys to any."
            ),
            "target_group": (
                "Long-term unemployed people and people with disabilities in villages of under "
                "2,000 inhabitants, and the local governments and NGOs that serve them."
            ),
            "results": (
                "14 social enterprises founded in 11 villages since 2018 (a bakery, a laundry "
                "service for guesthouses, firewood delivery, repairs), 63 jobs, of which 38 for "
                "people with disabilities; 12 of the 14 are still trading."
            ),
            "year_started": 2018,
            "transferability": (
                "The method's handbook and workshop plans are in Latvian and English. It relies "
                "on the 2018 Latvian Social Enterprise Law's status; elsewhere an equivalent "
                "legal form or a cooperative would be needed."
            ),
            "links": "https://ciemudarbnica.example.lv\nhttps://ciemudarbnica.example.lv/en/handbook",
            "contact_name": "Līga Vanaga",
            "contact_email": "liga.vanaga@ciemudarbnica.example.lv",
            "consent_to_publish": True,
        },
        "themes": ["Social exclusion", "Inclusive labour markets", "Community participation"],
        "answers": {
            "place": "Latgale region (Rēzekne, Ludza and Krāslava municipalities)",
            "participation": (
                "Residents map needs in an open village meeting and choose the business idea "
                "by vote; employees own a share of each enterprise."
            ),
            "scale": "Region",
            "funding": ["EU funds", "National public funds", "Earned income (sales, fees)"],
            "reach": 140,
            "budget": 85000,
            "evaluated": False,
            "study_visit": True,
        },
    },
    "fr_housing": {
        "fields": {
            "title": "Habiter ensemble – participatory housing with social landlords",
            "kind": Nomination.Kind.APPROACH,
            "organisation": "Coopérative Habiter Ensemble Villeurbanne",
            "organisation_sector": Nomination.Sector.CIVIL_SOCIETY,
            "language": "fr",
            "summary": (
                "Habiter ensemble associe futurs habitants, bailleur social et commune dès la "
                "conception d'un immeuble : les ménages à revenus modestes co-conçoivent leurs "
                "logements et les espaces partagés, puis gèrent ensemble la vie de l'immeuble."
            ),
            "english_summary": (
                "Habiter ensemble brings future residents, a social landlord and the town "
                "together from the design of a building: low-income households co-design their "
                "homes and shared spaces, and then run the building's common life together."
            ),
            "problem": (
                "Social housing estates on the edge of Lyon concentrate poverty and residents "
                "have little say in where or how they live; participatory housing projects "
                "have mostly served middle-class households."
            ),
            "target_group": (
                "Households eligible for social housing, including single parents and older "
                "people living alone, in the Lyon metropolitan area."
            ),
            "results": (
                "Five buildings and 96 homes delivered since 2014; tenant turnover a third of "
                "the landlord's average; rent arrears halved; shared laundries, guest rooms and "
                "gardens run by residents' committees."
            ),
            "year_started": 2014,
            "transferability": (
                "Works wherever social landlords can allocate homes before construction. The "
                "co-design workshop kit and the legal model (a lease with a residents' charter) "
                "are documented."
            ),
            "links": "https://habiter-ensemble.example.fr",
            "contact_name": "Sophie Marchand",
            "contact_email": "s.marchand@habiter-ensemble.example.fr",
            "consent_to_publish": True,
        },
        "themes": ["Affordable housing", "Spatial segregation", "Community participation"],
        "answers": {
            "place": "Villeurbanne and Vaulx-en-Velin, Métropole de Lyon",
            "participation": (
                "Future residents join 18 months of design workshops with the architects and "
                "sit on the building's management committee."
            ),
            "scale": "Municipality",
            "funding": ["Municipal budget", "National public funds", "Earned income (sales, fees)"],
            "reach": 310,
            "evaluated": True,
            "study_visit": True,
        },
    },
    "es_digital": {
        "fields": {
            "title": "Conecta Barrio – a digital-inclusion tool run by neighbourhood volunteers",
            "kind": Nomination.Kind.TOOL,
            "organisation": "Asociación Conecta Barrio",
            "organisation_sector": Nomination.Sector.CIVIL_SOCIETY,
            "language": "es",
            "summary": (
                "Conecta Barrio es una aplicación y una red de puntos de ayuda en bibliotecas "
                "y mercados donde vecinos voluntarios acompañan a personas mayores y migrantes "
                "en trámites digitales: cita médica, ayudas sociales, banca."
            ),
            "english_summary": (
                "Conecta Barrio is an app and a network of help points in libraries and "
                "markets where volunteer neighbours guide older people and migrants through "
                "online procedures: medical appointments, social benefits, banking."
            ),
            "problem": (
                "Since 2020 most public services in Spain can only be reached online; people "
                "without digital skills or documents lose benefits and appointments."
            ),
            "target_group": (
                "People over 65 and recently arrived migrants in Seville's northern districts."
            ),
            "results": (
                "About 9,000 procedures completed with help in 2024. No independent evaluation "
                "yet; the association keeps a log of visits."
            ),
            "year_started": 2021,
            "transferability": (
                "The app is open source; the help-point model needs a partner library or market "
                "and a volunteer coordinator."
            ),
            "links": "https://conectabarrio.example.es",
            "contact_name": "Lucía Fernández",
            "contact_email": "lucia@conectabarrio.example.es",
            "consent_to_publish": True,
        },
        "themes": ["Social exclusion", "Community participation"],
        "answers": {
            "place": "Macarena and Norte districts, Sevilla",
            "participation": (
                "Volunteers are residents of the same districts, many of them former users."
            ),
            "scale": "Neighbourhood",
            "funding": ["Municipal budget", "Volunteer time"],
            "reach": 3200,
            "budget": 42000,
            "evaluated": False,
            "study_visit": False,
        },
    },
    "lv_energy": {
        "fields": {
            "title": "Energy cafés for apartment-block residents",
            "kind": Nomination.Kind.PROGRAMME,
            "organisation": "Rīgas Enerģētikas aģentūra",
            "organisation_sector": Nomination.Sector.PUBLIC,
            "language": "en",
            "summary": (
                "Monthly energy cafés in Soviet-era apartment blocks, where residents learn to "
                "read their heating bills, plan a joint renovation and apply for state "
                "renovation grants together, with an energy advisor and a housing lawyer."
            ),
            "problem": (
                "Most Riga residents live in uninsulated 1960s–80s blocks; heating costs take "
                "up to a quarter of a pensioner's income, and a renovation needs a majority of "
                "apartment owners to agree."
            ),
            "target_group": (
                "Apartment owners and tenants in multi-apartment buildings, especially pensioners."
            ),
            "results": (
                "Since 2019, 212 cafés in 87 buildings; 31 buildings voted to renovate, cutting "
                "heat consumption by 40–55 %."
            ),
            "year_started": 2019,
            "transferability": (
                "Relevant wherever apartment owners must decide renovations jointly, e.g. in the "
                "Baltic states, Poland or Spain's comunidades de propietarios."
            ),
            "links": "https://rea.example.lv/energy-cafes",
            "contact_name": "Kārlis Liepiņš",
            "contact_email": "karlis.liepins@rea.example.lv",
            "consent_to_publish": True,
        },
        "themes": ["Energy poverty", "Climate adaptation", "Community participation"],
        "answers": {
            "place": "Rīga",
            "participation": (
                "Each building elects a resident host who runs the café with the advisor."
            ),
            "scale": "Municipality",
            "funding": ["Municipal budget", "EU funds"],
            "reach": 1900,
            "evaluated": False,
            "study_visit": True,
        },
    },
    "se_schoolyards_draft": {
        "fields": {
            "title": "Climate-adapted schoolyards designed with children",
            "kind": Nomination.Kind.APPROACH,
            "organisation": "Göteborgs Stad, Stadsmiljöförvaltningen",
            "organisation_sector": Nomination.Sector.PUBLIC,
            "language": "en",
            "summary": (
                "Pupils in schools in north-eastern Gothenburg co-design the greening of their "
                "asphalt schoolyards: rain gardens, shade trees and play areas open to the "
                "neighbourhood after school hours."
            ),
            "year_started": 2021,
            "consent_to_publish": False,
        },
        "themes": ["Climate adaptation", "Spatial segregation"],
        "answers": {"place": "Angered and Östra Göteborg", "scale": "Municipality"},
    },
}

REVIEW_SCORES = {
    # practice key -> per reviewer: (scores per criterion in order, overall comment)
    "se_mentoring": [
        (
            [5, 5, 4, 4, 5],
            "A well-run, well-evaluated programme that tackles segregation of networks, not "
            "just of housing. A strong candidate for the transnational showcase.",
        ),
        (
            [4, 5, 5, 4, 5],
            "Convincing evidence and eight years of steady operation. The matching guide "
            "would travel well; the volunteer pool is the main condition.",
        ),
    ],
    "lv_social_enterprise": [
        (
            [4, 4, 4, 3, 4],
            "An original method for very small places. Transfer depends on a legal status for "
            "social enterprises that not every country has.",
        ),
        (
            [5, 3, 4, 3, 5],
            "Impressive survival rate of the enterprises; the evidence is mostly the "
            "organisation's own monitoring and would gain from an outside evaluation.",
        ),
    ],
}

CRITERION_COMMENTS = [
    "Compared with usual practice in the country, the approach is clearly different.",
    "Results are reported with figures; the source of the data is stated.",
    "Running for several years with mixed funding; ownership is shared with participants.",
    "The documentation exists; local conditions for transfer are named.",
    "Addresses the call's priority themes directly.",
]
