/* users.c — word lists and the record builder for the generator's
 * `users` kind (see users.h for the record's shape).
 *
 * Speed matters: the generator must never be a pipeline's bottleneck (about
 * 1.2 million records/s on one core here), so a record is built with two
 * arena allocations (all 44 object members at once, then one text area that
 * every generated string is written into by hand and which is shrunk to what
 * was used), no printf and no strlen. Strings from the lists below are not
 * copied: values point at them.
 *
 * Randomness: splitmix64 (Steele, Lea, Flood: "Fast splittable pseudorandom
 * number generators", 2014), whose finaliser is a bijection of 64 bits. The
 * stream of record i starts at mix(mix(seed) ^ i): distinct records start
 * from distinct states. The uuid takes the first two draws; the first is a
 * bijection of the start state, so two uuids of a run can only match if 60
 * bits collide by chance (about n^2 / 2^61: 4e-7 for a million records) and
 * the other 62 random bits do too. Small ranges (a list index, a digit) are
 * drawn from 16-bit chunks, four per draw, large ones from 32 bits.
 *
 * The login digests (md5, sha1, sha256) are random hex strings of the right
 * lengths, not real digests of password + salt: nothing downstream checks
 * them and hashing would cost more than building the rest of the record.
 */
#include "connectors/generator/users.h"

#include <stdbool.h>
#include <string.h>

#include "core/error.h"

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

/* A list entry with its length, so building a record never runs strlen. */
#define W(text) { text, sizeof(text) - 1 }

/* ---- word lists ---------------------------------------------------- */

static const sl_str male_first_names[] = {
    W("James"), W("John"), W("Robert"), W("Michael"), W("William"), W("David"), W("Richard"),
    W("Joseph"), W("Thomas"), W("Charles"), W("Daniel"), W("Matthew"), W("Anthony"), W("Mark"),
    W("Paul"), W("Steven"), W("Andrew"), W("Joshua"), W("Kevin"), W("Brian"), W("George"),
    W("Edward"), W("Oliver"), W("Harry"), W("Jack"), W("Noah"), W("Liam"), W("Lucas"), W("Hugo"),
    W("Louis"), W("Théo"), W("Mathéo"), W("Léo"), W("Jérôme"), W("Loïc"), W("Raphaël"),
    W("Lukas"), W("Jonas"), W("Jürgen"), W("Björn"), W("Matthias"), W("Søren"), W("Mads"),
    W("Rasmus"), W("Jørgen"), W("Anders"), W("Eero"), W("Väinö"), W("Onni"), W("Aleksi"),
    W("Håkon"), W("Ole"), W("Sindre"), W("Çetin"), W("Emre"), W("Burak"), W("Oğuz"), W("Mehmet"),
    W("Arash"), W("Dariush"), W("Kian"), W("Aarav"), W("Vihaan"), W("Arjun"), W("Rohan"),
    W("Santiago"), W("Mateo"), W("José"), W("Andrés"), W("Joaquín"), W("Miloš"), W("Nikola"),
    W("Đorđe"), W("Stefan"), W("Bohdan"), W("Taras"), W("Yaroslav"), W("Bram"), W("Daan"),
    W("Sem"), W("Seán"), W("Cian"), W("Oisín"), W("Tiago"), W("João"), W("Gustavo"), W("Rafael"),
    W("Nicolás"), W("Iñigo"), W("Álvaro"), W("Noé"), W("Zoltan"),
};

static const sl_str female_first_names[] = {
    W("Mary"), W("Patricia"), W("Jennifer"), W("Linda"), W("Elizabeth"), W("Barbara"), W("Susan"),
    W("Jessica"), W("Sarah"), W("Karen"), W("Emily"), W("Olivia"), W("Amelia"), W("Isla"),
    W("Ava"), W("Sophie"), W("Chloé"), W("Zoé"), W("Léa"), W("Manon"), W("Inès"), W("Anaïs"),
    W("Océane"), W("Hélène"), W("Emma"), W("Mia"), W("Hannah"), W("Lena"), W("Anja"), W("Ingrid"),
    W("Maja"), W("Freja"), W("Astrid"), W("Sofie"), W("Mathilde"), W("Aino"), W("Eveliina"),
    W("Siiri"), W("Ella"), W("Ingeborg"), W("Solveig"), W("Åse"), W("Nora"), W("Çiğdem"),
    W("Ayşe"), W("Elif"), W("Zeynep"), W("Şeyma"), W("Parisa"), W("Niloufar"), W("Shirin"),
    W("Ananya"), W("Diya"), W("Saanvi"), W("Priya"), W("Valentina"), W("Camila"), W("Lucía"),
    W("María"), W("Sofía"), W("Ximena"), W("Jelena"), W("Milica"), W("Ana"), W("Dragana"),
    W("Oksana"), W("Olena"), W("Iryna"), W("Daria"), W("Fenna"), W("Sanne"), W("Lotte"),
    W("Saoirse"), W("Aoife"), W("Niamh"), W("Beatriz"), W("Letícia"), W("Larissa"), W("Giovanna"),
    W("Nerea"), W("Ainhoa"), W("Rocío"), W("Zoë"), W("Maëlle"), W("Jennie"),
};

static const sl_str last_names[] = {
    W("Nichols"), W("Smith"), W("Johnson"), W("Williams"), W("Brown"), W("Jones"), W("Miller"),
    W("Davis"), W("Wilson"), W("Anderson"), W("Taylor"), W("Thomas"), W("Moore"), W("Martin"),
    W("Jackson"), W("White"), W("Harris"), W("Clark"), W("Lewis"), W("Walker"), W("Hall"),
    W("Young"), W("King"), W("Wright"), W("Scott"), W("Green"), W("Baker"), W("Adams"),
    W("Nelson"), W("Hill"), W("Campbell"), W("Mitchell"), W("Roberts"), W("Carter"),
    W("Phillips"), W("Evans"), W("Turner"), W("Parker"), W("Collins"), W("Edwards"), W("Stewart"),
    W("Morris"), W("Murphy"), W("Cook"), W("Rogers"), W("Morgan"), W("Cooper"), W("Peterson"),
    W("Reed"), W("Bailey"), W("Bell"), W("Kelly"), W("Howard"), W("Ward"), W("Cox"),
    W("Richardson"), W("Wood"), W("Watson"), W("Brooks"), W("Bennett"), W("Gray"), W("Hughes"),
    W("Price"), W("Sanders"), W("Myers"), W("Long"), W("Ross"), W("Foster"), W("Dubois"),
    W("Lefèvre"), W("Mercier"), W("Girard"), W("Bonnet"), W("François"), W("Lemaire"),
    W("Müller"), W("Schmidt"), W("Schröder"), W("Weiß"), W("Groß"), W("Krüger"), W("Hoffmann"),
    W("Schäfer"), W("Jørgensen"), W("Sørensen"), W("Nielsen"), W("Møller"), W("Kristensen"),
    W("Østergaard"), W("Virtanen"), W("Mäkinen"), W("Häkkinen"), W("Nieminen"), W("Järvinen"),
    W("Halvorsen"), W("Bråten"), W("Løvås"), W("Haugen"), W("Çelik"), W("Yılmaz"), W("Öztürk"),
    W("Şahin"), W("Aydın"), W("Doğan"), W("Karimi"), W("Hosseini"), W("Rahimi"), W("Mohammadi"),
    W("Sharma"), W("Patel"), W("Iyer"), W("Reddy"), W("Kumar"), W("García"), W("Rodríguez"),
    W("Martínez"), W("Hernández"), W("López"), W("González"), W("Pérez"), W("Sánchez"),
    W("Muñoz"), W("Jiménez"), W("Petrović"), W("Jovanović"), W("Nikolić"), W("Đorđević"),
    W("Marković"), W("Kovalenko"), W("Shevchenko"), W("Bondarenko"), W("Tkachenko"),
    W("de Vries"), W("van Dijk"), W("Bakker"), W("Visser"), W("Smit"), W("de Jong"), W("O'Brien"),
    W("Byrne"), W("Ryan"), W("O'Connor"), W("McCarthy"), W("Silva"), W("Souza"), W("Oliveira"),
    W("Araújo"), W("Gonçalves"), W("Ferreira"), W("Rocha"),
};

static const sl_str street_names[] = {
    W("Valwood Pkwy"), W("Main Street"), W("High Street"), W("Church Road"), W("Station Road"),
    W("Park Lane"), W("Mill Road"), W("Victoria Road"), W("Oak Lawn Ave"), W("Pecan Acres Ln"),
    W("Hickory Creek Dr"), W("Lakeview St"), W("Rue de la Paix"), W("Rue Pasteur"),
    W("Rue du Bât-d'Argent"), W("Avenue Jean-Jaurès"), W("Place de l'Église"), W("Dorfstraße"),
    W("Kirchgasse"), W("Schillerstraße"), W("Mühlenweg"), W("Calle de Alcalá"),
    W("Avenida de Andalucía"), W("Calle del Prado"), W("Hovedgaden"), W("Østergade"),
    W("Nørrebrogade"), W("Storgata"), W("Kongens gate"), W("Tromsøgata"), W("Mannerheimintie"),
    W("Hämeenkatu"), W("Pispalan Valtatie"), W("Atatürk Sk"), W("İstiklal Cd"), W("Bağdat Cd"),
    W("Kerkstraat"), W("Dorpsstraat"), W("Molenweg"), W("Dublin Road"), W("Grafton Street"),
    W("Queen Street"), W("Rua Dois"), W("Rua São Jorge"), W("Rua Treze de Maio"),
    W("Calle Juárez"), W("Avenida Hidalgo"), W("Knez Mihailova"), W("Bulevar oslobođenja"),
    W("MG Road"), W("Anna Salai"), W("Bahnhofstrasse"), W("Rue du Rhône"), W("Lake Road"),
    W("Karangahape Road"), W("Shortland Street"), W("Poplar Dr"), W("Sunset St"), W("Green Rd"),
    W("Crockett St"), W("Valley View Ln"), W("Bruce St"), W("Ash Dr"),
};

static const sl_str adjectives[] = {
    W("purple"), W("yellow"), W("blue"), W("silver"), W("small"), W("heavy"), W("organic"),
    W("lazy"), W("tiny"), W("big"), W("crazy"), W("angry"), W("happy"), W("sad"), W("golden"),
    W("beautiful"), W("brown"), W("white"), W("red"), W("ticklish"), W("green"), W("orange"),
    W("black"), W("sleepy"), W("brave"), W("quick"),
};

static const sl_str animals[] = {
    W("bird"), W("peacock"), W("lion"), W("fish"), W("gorilla"), W("duck"), W("leopard"),
    W("swan"), W("koala"), W("butterfly"), W("mouse"), W("cat"), W("wolf"), W("panda"),
    W("meercat"), W("zebra"), W("ladybug"), W("elephant"), W("dog"), W("ostrich"), W("goose"),
    W("rabbit"), W("tiger"), W("frog"), W("snake"), W("bear"), W("fox"), W("kangaroo"), W("owl"),
    W("penguin"),
};

static const sl_str passwords[] = {
    W("sunshine"), W("dragon"), W("monkey"), W("letmein"), W("password1"), W("shadow"),
    W("master"), W("qwerty"), W("football"), W("baseball"), W("welcome"), W("freedom"),
    W("whatever"), W("princess"), W("trustno1"), W("hunter"), W("ranger"), W("buster"),
    W("tigger"), W("soccer"), W("hockey"), W("killer"), W("george"), W("charlie"), W("andrew"),
    W("michelle"), W("jessica"), W("pepper"), W("daniel"), W("access"), W("joshua"), W("maggie"),
    W("silver"), W("william"), W("dallas"), W("yankees"), W("orange"), W("summer"), W("ginger"),
    W("cookie"), W("addison"), W("1234"),
};

typedef struct timezone_entry {
    sl_str offset;
    sl_str description;
} timezone_entry;

static const timezone_entry timezones[] = {
    { W("-12:00"), W("Eniwetok, Kwajalein") }, { W("-11:00"), W("Midway Island, Samoa") },
    { W("-10:00"), W("Hawaii") }, { W("-9:00"), W("Alaska") },
    { W("-8:00"), W("Pacific Time (US & Canada)") },
    { W("-7:00"), W("Mountain Time (US & Canada)") },
    { W("-6:00"), W("Central Time (US & Canada), Mexico City") },
    { W("-5:00"), W("Eastern Time (US & Canada), Bogota, Lima") },
    { W("-4:00"), W("Atlantic Time (Canada), Caracas, La Paz") },
    { W("-3:30"), W("Newfoundland") }, { W("-3:00"), W("Brazil, Buenos Aires, Georgetown") },
    { W("-2:00"), W("Mid-Atlantic") }, { W("-1:00"), W("Azores, Cape Verde Islands") },
    { W("0:00"), W("Western Europe Time, London, Lisbon, Casablanca") },
    { W("+1:00"), W("Brussels, Copenhagen, Madrid, Paris") },
    { W("+2:00"), W("Kaliningrad, South Africa") },
    { W("+3:00"), W("Baghdad, Riyadh, Moscow, St. Petersburg") }, { W("+3:30"), W("Tehran") },
    { W("+4:00"), W("Abu Dhabi, Muscat, Baku, Tbilisi") }, { W("+4:30"), W("Kabul") },
    { W("+5:00"), W("Ekaterinburg, Islamabad, Karachi, Tashkent") },
    { W("+5:30"), W("Bombay, Calcutta, Madras, New Delhi") }, { W("+5:45"), W("Kathmandu") },
    { W("+6:00"), W("Almaty, Dhaka, Colombo") }, { W("+7:00"), W("Bangkok, Hanoi, Jakarta") },
    { W("+8:00"), W("Beijing, Perth, Singapore, Hong Kong") },
    { W("+9:00"), W("Tokyo, Seoul, Osaka, Sapporo, Yakutsk") },
    { W("+9:30"), W("Adelaide, Darwin") },
    { W("+10:00"), W("Eastern Australia, Guam, Vladivostok") },
    { W("+11:00"), W("Magadan, Solomon Islands, New Caledonia") },
    { W("+12:00"), W("Auckland, Wellington, Fiji, Kamchatka") },
};

/* ---- nationalities --------------------------------------------------
 * Patterns: '#' is a random digit, 'A' a random capital letter, anything
 * else is copied. A NULL id pattern gives id {name: "", value: null}. An
 * int postcode is drawn from [postcode_min, postcode_max]; a string one
 * from postcode_pattern. */

typedef struct nationality {
    sl_str code;
    sl_str country;
    const sl_str *states;
    size_t n_states;
    const sl_str *cities;
    size_t n_cities;
    sl_str id_name;
    const char *id_pattern;
    const char *postcode_pattern;   /* NULL: int postcode */
    int32_t postcode_min, postcode_max;
    const char *phone_pattern;
    const char *cell_pattern;
    bool has_french_titles;
} nationality;

/* A word list and its length, for the two fields each list fills. */
#define LIST(...)                      \
    ((const sl_str[]){ __VA_ARGS__ }), \
    sizeof((const sl_str[]){ __VA_ARGS__ }) / sizeof(sl_str)

static const nationality nationalities[] = {
    { W("US"), W("United States"),
      LIST(W("Michigan"), W("Texas"), W("California"), W("Ohio"), W("Oregon"), W("Florida"),
           W("New York"), W("Arizona"), W("Georgia"), W("Nevada"), W("Illinois"),
           W("Washington")),
      LIST(W("Billings"), W("Austin"), W("Sacramento"), W("Toledo"), W("Eugene"), W("Orlando"),
           W("Buffalo"), W("Tempe"), W("Savannah"), W("Reno"), W("Peoria"), W("Spokane"),
           W("Fort Worth"), W("Dallas"), W("Lansing")),
      W("SSN"), "###-##-####", NULL, 10000, 99999, "(###)-###-####", "(###)-###-####", false },
    { W("GB"), W("United Kingdom"),
      LIST(W("Cornwall"), W("Devon"), W("Kent"), W("Essex"), W("Merseyside"), W("Tyne and Wear"),
           W("West Yorkshire"), W("Gwynedd County"), W("Lothian"), W("Strathclyde")),
      LIST(W("Truro"), W("Exeter"), W("Canterbury"), W("Colchester"), W("Liverpool"),
           W("Newcastle upon Tyne"), W("Leeds"), W("Bangor"), W("Edinburgh"), W("Glasgow"),
           W("Bath"), W("York")),
      W("NINO"), "AA ## ## ## A", "A## #AA", 0, 0, "0#### ######", "07### ######", false },
    { W("FR"), W("France"),
      LIST(W("Haute-Garonne"), W("Bouches-du-Rhône"), W("Gironde"), W("Hérault"),
           W("Loire-Atlantique"), W("Rhône"), W("Nord"), W("Finistère"), W("Isère"),
           W("Côte-d'Or")),
      LIST(W("Toulouse"), W("Marseille"), W("Bordeaux"), W("Montpellier"), W("Nantes"), W("Lyon"),
           W("Lille"), W("Brest"), W("Grenoble"), W("Dijon"), W("Besançon"), W("Orléans"),
           W("Saint-Étienne"), W("Nîmes")),
      W("INSEE"), "############# ##", NULL, 10000, 95999, "0#-##-##-##-##", "06-##-##-##-##",
      false },
    { W("DE"), W("Germany"),
      LIST(W("Bayern"), W("Baden-Württemberg"), W("Nordrhein-Westfalen"), W("Hessen"),
           W("Sachsen"), W("Niedersachsen"), W("Thüringen"), W("Hamburg"), W("Berlin"),
           W("Schleswig-Holstein")),
      LIST(W("München"), W("Stuttgart"), W("Köln"), W("Düsseldorf"), W("Frankfurt am Main"),
           W("Leipzig"), W("Dresden"), W("Hannover"), W("Erfurt"), W("Lübeck"), W("Nürnberg"),
           W("Göttingen")),
      W("SVNR"), "## ###### A ###", NULL, 10000, 99999, "0###-#######", "017#-#######", false },
    { W("AU"), W("Australia"),
      LIST(W("New South Wales"), W("Victoria"), W("Queensland"), W("Western Australia"),
           W("South Australia"), W("Tasmania"), W("Northern Territory"),
           W("Australian Capital Territory")),
      LIST(W("Sydney"), W("Melbourne"), W("Brisbane"), W("Perth"), W("Adelaide"), W("Hobart"),
           W("Darwin"), W("Canberra"), W("Geelong"), W("Cairns"), W("Wollongong"),
           W("Newcastle")),
      W("TFN"), "#########", NULL, 1000, 9999, "0#-####-####", "04##-###-###", false },
    { W("CA"), W("Canada"),
      LIST(W("Ontario"), W("Québec"), W("British Columbia"), W("Alberta"), W("Manitoba"),
           W("Saskatchewan"), W("Nova Scotia"), W("New Brunswick")),
      LIST(W("Toronto"), W("Montréal"), W("Vancouver"), W("Calgary"), W("Winnipeg"), W("Regina"),
           W("Halifax"), W("Fredericton"), W("Québec"), W("Ottawa"), W("Edmonton"),
           W("Victoria")),
      W("SIN"), "### ### ###", "A#A #A#", 0, 0, "A## A##-####", "A## A##-####", false },
    { W("BR"), W("Brazil"),
      LIST(W("São Paulo"), W("Rio de Janeiro"), W("Minas Gerais"), W("Bahia"), W("Paraná"),
           W("Pernambuco"), W("Ceará"), W("Rio Grande do Sul"), W("Goiás"), W("Pará")),
      LIST(W("São Paulo"), W("Rio de Janeiro"), W("Belo Horizonte"), W("Salvador"), W("Curitiba"),
           W("Recife"), W("Fortaleza"), W("Porto Alegre"), W("Goiânia"), W("Belém"),
           W("Florianópolis"), W("Maringá")),
      W("CPF"), "###.###.###-##", NULL, 10000, 99999, "(##) ####-####", "(##) #####-####", false },
    { W("ES"), W("Spain"),
      LIST(W("Andalucía"), W("Cataluña"), W("Comunidad de Madrid"), W("Comunidad Valenciana"),
           W("Galicia"), W("Castilla y León"), W("País Vasco"), W("Aragón")),
      LIST(W("Sevilla"), W("Barcelona"), W("Madrid"), W("Valencia"), W("Vigo"), W("Valladolid"),
           W("Bilbao"), W("Zaragoza"), W("Málaga"), W("Córdoba"), W("Alicante"), W("Gijón")),
      W("DNI"), "########-A", NULL, 10000, 52999, "9##-###-###", "6##-###-###", false },
    { W("NL"), W("Netherlands"),
      LIST(W("Noord-Holland"), W("Zuid-Holland"), W("Utrecht"), W("Gelderland"),
           W("Noord-Brabant"), W("Groningen"), W("Friesland"), W("Limburg")),
      LIST(W("Amsterdam"), W("Rotterdam"), W("Utrecht"), W("Arnhem"), W("Eindhoven"),
           W("Groningen"), W("Leeuwarden"), W("Maastricht"), W("Haarlem"), W("Den Haag"),
           W("Tilburg"), W("Zwolle")),
      W("BSN"), "########", "#### AA", 0, 0, "(0###) ######", "(06) ########", false },
    { W("NZ"), W("New Zealand"),
      LIST(W("Auckland"), W("Wellington"), W("Canterbury"), W("Otago"), W("Waikato"),
           W("Bay of Plenty"), W("Manawatu-Wanganui"), W("Hawke's Bay")),
      LIST(W("Auckland"), W("Wellington"), W("Christchurch"), W("Dunedin"), W("Hamilton"),
           W("Tauranga"), W("Palmerston North"), W("Napier"), W("Nelson"), W("Rotorua"),
           W("Whanganui"), W("Invercargill")),
      W(""), NULL, NULL, 1000, 9999, "(###)-###-####", "(###)-###-####", false },
    { W("IE"), W("Ireland"),
      LIST(W("Dublin"), W("Cork"), W("Galway"), W("Limerick"), W("Kerry"), W("Mayo"),
           W("Donegal"), W("Wexford")),
      LIST(W("Dublin"), W("Cork"), W("Galway"), W("Limerick"), W("Tralee"), W("Castlebar"),
           W("Letterkenny"), W("Wexford"), W("Kilkenny"), W("Sligo"), W("Waterford"), W("Ennis")),
      W("PPS"), "#######A", "A## A#A#", 0, 0, "0#1-###-####", "08#-###-####", false },
    { W("CH"), W("Switzerland"),
      LIST(W("Zürich"), W("Bern"), W("Genève"), W("Vaud"), W("Ticino"), W("Graubünden"),
           W("Luzern"), W("Basel-Stadt")),
      LIST(W("Zürich"), W("Bern"), W("Genève"), W("Lausanne"), W("Lugano"), W("Chur"),
           W("Luzern"), W("Basel"), W("Neuchâtel"), W("Fribourg"), W("St. Gallen"),
           W("Winterthur")),
      W("AVS"), "756.####.####.##", NULL, 1000, 9999, "0## ### ## ##", "07# ### ## ##", true },
    { W("DK"), W("Denmark"),
      LIST(W("Hovedstaden"), W("Sjælland"), W("Syddanmark"), W("Midtjylland"), W("Nordjylland")),
      LIST(W("København"), W("Roskilde"), W("Odense"), W("Aarhus"), W("Aalborg"), W("Esbjerg"),
           W("Randers"), W("Kolding"), W("Horsens"), W("Vejle"), W("Helsingør"), W("Næstved")),
      W("CPR"), "######-####", NULL, 1000, 9999, "########", "########", false },
    { W("FI"), W("Finland"),
      LIST(W("Uusimaa"), W("Pirkanmaa"), W("Varsinais-Suomi"), W("Pohjois-Pohjanmaa"),
           W("Keski-Suomi"), W("Lappi"), W("Pohjois-Savo"), W("Satakunta")),
      LIST(W("Helsinki"), W("Tampere"), W("Turku"), W("Oulu"), W("Jyväskylä"), W("Rovaniemi"),
           W("Kuopio"), W("Pori"), W("Espoo"), W("Vantaa"), W("Lahti"), W("Hämeenlinna")),
      W("HETU"), "######-###A", NULL, 10000, 99999, "0#-###-###", "04#-###-##-##", false },
    { W("NO"), W("Norway"),
      LIST(W("Oslo"), W("Vestland"), W("Trøndelag"), W("Rogaland"), W("Troms og Finnmark"),
           W("Viken"), W("Nordland"), W("Innlandet")),
      LIST(W("Oslo"), W("Bergen"), W("Trondheim"), W("Stavanger"), W("Tromsø"), W("Drammen"),
           W("Bodø"), W("Hamar"), W("Ålesund"), W("Bærum"), W("Fredrikstad"), W("Kristiansand")),
      W("FN"), "###########", "####", 0, 0, "########", "4#######", false },
    { W("TR"), W("Turkey"),
      LIST(W("İstanbul"), W("Ankara"), W("İzmir"), W("Bursa"), W("Antalya"), W("Eskişehir"),
           W("Muğla"), W("Trabzon")),
      LIST(W("İstanbul"), W("Ankara"), W("İzmir"), W("Bursa"), W("Antalya"), W("Eskişehir"),
           W("Bodrum"), W("Trabzon"), W("Konya"), W("Kayseri"), W("Adana"), W("Sivas")),
      W(""), NULL, NULL, 10000, 99999, "(###)-###-####", "(###)-###-####", false },
    { W("IR"), W("Iran"),
      LIST(W("تهران"), W("اصفهان"), W("فارس"), W("خراسان رضوی"), W("آذربایجان شرقی"), W("گیلان")),
      LIST(W("تهران"), W("اصفهان"), W("شیراز"), W("مشهد"), W("تبریز"), W("رشت"), W("کرج"),
           W("قم")),
      W(""), NULL, NULL, 10000, 99999, "0##-########", "09##-###-####", false },
    { W("IN"), W("India"),
      LIST(W("Maharashtra"), W("Karnataka"), W("Tamil Nadu"), W("Kerala"), W("Gujarat"),
           W("Rajasthan"), W("West Bengal"), W("Punjab")),
      LIST(W("Mumbai"), W("Bengaluru"), W("Chennai"), W("Kochi"), W("Ahmedabad"), W("Jaipur"),
           W("Kolkata"), W("Amritsar"), W("Pune"), W("Mysuru"), W("Surat"), W("Ludhiana")),
      W("UIDAI"), "#### #### ####", NULL, 100000, 999999, "#########", "##########", false },
    { W("MX"), W("Mexico"),
      LIST(W("Jalisco"), W("Nuevo León"), W("Yucatán"), W("Oaxaca"), W("Puebla"), W("Sonora"),
           W("Chiapas"), W("Michoacán")),
      LIST(W("Guadalajara"), W("Monterrey"), W("Mérida"), W("Oaxaca de Juárez"), W("Puebla"),
           W("Hermosillo"), W("Tuxtla Gutiérrez"), W("Morelia"), W("Zapopan"), W("Querétaro"),
           W("Cancún"), W("Tijuana")),
      W("NSS"), "## ## ## ####-#", NULL, 10000, 99999, "(6##) ### ####", "(6##) ### ####", false },
    { W("RS"), W("Serbia"),
      LIST(W("Beograd"), W("Vojvodina"), W("Šumadija"), W("Nišava"), W("Zlatibor"), W("Raška")),
      LIST(W("Beograd"), W("Novi Sad"), W("Kragujevac"), W("Niš"), W("Užice"), W("Novi Pazar"),
           W("Subotica"), W("Čačak"), W("Zrenjanin"), W("Pančevo"), W("Kraljevo"),
           W("Smederevo")),
      W("SID"), "#############", NULL, 10000, 39999, "0##-####-###", "06#-####-###", false },
    { W("UA"), W("Ukraine"),
      LIST(W("Київська"), W("Львівська"), W("Одеська"), W("Харківська"), W("Дніпропетровська"),
           W("Запорізька")),
      LIST(W("Київ"), W("Львів"), W("Одеса"), W("Харків"), W("Дніпро"), W("Запоріжжя"),
           W("Вінниця"), W("Полтава")),
      W(""), NULL, NULL, 10000, 99999, "(0##) ###-####", "(09#) ###-####", false },
};

static const sl_str male_titles[] = { W("Mr") };
static const sl_str female_titles[] = { W("Ms"), W("Mrs"), W("Miss") };
static const sl_str male_french_titles[] = { W("Monsieur") };
static const sl_str female_french_titles[] = { W("Madame"), W("Mademoiselle") };


/* ---- random numbers -------------------------------------------------- */

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A record's random stream, plus a pool of 16-bit chunks for the many
 * small draws (a list index, a digit), four to one 64-bit draw. */
typedef struct users_rng {
    uint64_t state;
    uint64_t pool;
    int n_pooled;
} users_rng;

static inline uint64_t rng_next(users_rng *rng)
{
    rng->state += UINT64_C(0x9E3779B97F4A7C15);
    return mix64(rng->state);
}

/* A draw in [0, n), n < 2^32: the top 32 bits of a draw scaled by n. */
static inline uint32_t rng_below(users_rng *rng, uint32_t n)
{
    return (uint32_t)(((rng_next(rng) >> 32) * (uint64_t)n) >> 32);
}

/* A draw in [0, n), n <= 65536, from a 16-bit chunk scaled by n: biased
 * by at most n / 65536, which fake data does not mind. */
static inline uint32_t rng_small(users_rng *rng, uint32_t n)
{
    if (rng->n_pooled == 0) {
        rng->pool = rng_next(rng);
        rng->n_pooled = 4;
    }
    uint32_t chunk = (uint32_t)(rng->pool & 0xFFFF);
    rng->pool >>= 16;
    rng->n_pooled--;
    return (chunk * n) >> 16;
}

static inline sl_str pick(users_rng *rng, const sl_str *list, size_t n)
{
    return list[rng_small(rng, (uint32_t)n)];
}

/* ---- text written into the record's area ---------------------------- */

/* Generous bound for one record's generated text (about 600 bytes are
 * used); a write past it is dropped and reported as SL_ETOOBIG. */
#define TEXT_CAPACITY 1024

typedef struct text_writer {
    char *pos;
    char *end;
    bool is_truncated;
} text_writer;

/* Room for n more bytes, or NULL (and the record is marked too big).
 * Helpers fill the room through a local pointer: stores through w->pos
 * itself would make the compiler reload it after every byte. */
static inline char *reserve(text_writer *w, size_t n)
{
    if ((size_t)(w->end - w->pos) < n) {
        w->is_truncated = true;
        return NULL;
    }
    char *room = w->pos;
    w->pos += n;
    return room;
}

static inline void put_char(text_writer *w, char c)
{
    char *room = reserve(w, 1);
    if (room) *room = c;
}

static inline void put_bytes(text_writer *w, const char *bytes, size_t n)
{
    char *room = reserve(w, n);
    if (room) memcpy(room, bytes, n);
}

static inline void put_str(text_writer *w, sl_str text)
{
    put_bytes(w, text.ptr, text.len);
}

/* Writes value as `width` digits with leading zeros. */
static inline void write_padded(char *out, uint32_t value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
}

static void put_uint(text_writer *w, uint64_t value)
{
    char digits[20];
    int n = 20;
    do {
        digits[--n] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    put_bytes(w, digits + n, (size_t)(20 - n));
}

/* "-42.1817" from -421817: a fixed-point number with four decimals. */
static void put_fixed4(text_writer *w, int32_t value)
{
    uint32_t magnitude = value < 0 ? (uint32_t)(-(int64_t)value) : (uint32_t)value;
    char text[16];
    int n = 16;
    n -= 4;
    write_padded(text + n, magnitude % 10000, 4);
    text[--n] = '.';
    magnitude /= 10000;
    do {
        text[--n] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0) text[--n] = '-';
    put_bytes(w, text + n, (size_t)(16 - n));
}

static void put_pattern(text_writer *w, const char *pattern, users_rng *rng)
{
    size_t n = strlen(pattern);
    char *room = reserve(w, n);
    if (!room) return;
    users_rng local = *rng;
    for (size_t i = 0; i < n; i++) {
        char symbol = pattern[i];
        if (symbol == '#')
            symbol = (char)('0' + rng_small(&local, 10));
        else if (symbol == 'A')
            symbol = (char)('A' + rng_small(&local, 26));
        room[i] = symbol;
    }
    *rng = local;
}

static const char hex_digits[] = "0123456789abcdef";

static void put_hex(text_writer *w, users_rng *rng, size_t n_digits)
{
    char *room = reserve(w, n_digits);
    if (!room) return;
    uint64_t bits = 0;
    for (size_t i = 0; i < n_digits; i++) {
        if (i % 16 == 0) bits = rng_next(rng);
        room[i] = hex_digits[bits & 15];
        bits >>= 4;
    }
}

/* RFC 4122 version 4: 122 random bits, version nibble 4, variant 10xx. */
static void put_uuid(text_writer *w, users_rng *rng)
{
    uint64_t high = rng_next(rng);
    uint64_t low = rng_next(rng);
    high = (high & ~(UINT64_C(0xF) << 12)) | (UINT64_C(0x4) << 12);
    low = (low & ~(UINT64_C(0xC) << 60)) | (UINT64_C(0x8) << 60);
    char *room = reserve(w, 36);
    if (!room) return;
    size_t at = 0;
    for (int i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20) room[at++] = '-';
        uint64_t word = i < 16 ? high : low;
        room[at++] = hex_digits[(word >> (60 - 4 * (i % 16))) & 15];
    }
}

static void put_salt(text_writer *w, users_rng *rng)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char *room = reserve(w, 8);
    if (!room) return;
    uint64_t bits = rng_next(rng);
    for (int i = 0; i < 8; i++) {
        room[i] = alnum[((bits & 0xFF) * 62) >> 8];
        bits >>= 8;
    }
}

/* ---- dates ------------------------------------------------------------ */

#define MS_PER_DAY INT64_C(86400000)
#define SECONDS_PER_YEAR 31556952u   /* 365.2425 days */

typedef struct civil_time {
    int64_t year;
    int month, day;
    int64_t ms_of_day;
} civil_time;

/* Proleptic Gregorian date of a Unix time in ms, counting in 400-year eras
 * that start on 1 March so the leap day ends each year. */
static civil_time civil_from_ms(int64_t epoch_ms)
{
    civil_time t;
    int64_t days = epoch_ms / MS_PER_DAY;
    if (epoch_ms % MS_PER_DAY < 0) days--;
    t.ms_of_day = epoch_ms - days * MS_PER_DAY;
    int64_t shifted = days + 719468;   /* days since 0000-03-01 */
    int64_t era = (shifted >= 0 ? shifted : shifted - 146096) / 146097;
    int64_t day_of_era = shifted - era * 146097;
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_from_march = (5 * day_of_year + 2) / 153;
    t.day = (int)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
    t.month = (int)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
    t.year = year_of_era + era * 400 + (t.month <= 2);
    return t;
}

/* "1993-07-20T09:44:18.674Z" */
static void put_date(text_writer *w, civil_time t)
{
    uint32_t ms = (uint32_t)t.ms_of_day;
    char *room = reserve(w, 24);
    if (!room) return;
    write_padded(room, (uint32_t)t.year, 4);
    room[4] = '-';
    write_padded(room + 5, (uint32_t)t.month, 2);
    room[7] = '-';
    write_padded(room + 8, (uint32_t)t.day, 2);
    room[10] = 'T';
    write_padded(room + 11, ms / 3600000, 2);
    room[13] = ':';
    write_padded(room + 14, ms / 60000 % 60, 2);
    room[16] = ':';
    write_padded(room + 17, ms / 1000 % 60, 2);
    room[19] = '.';
    write_padded(room + 20, ms % 1000, 3);
    room[23] = 'Z';
}

/* Whole years from `from` to `to` (an age). */
static int64_t full_years(civil_time from, civil_time to)
{
    int64_t years = to.year - from.year;
    if (to.month < from.month || (to.month == from.month && to.day < from.day) ||
        (to.month == from.month && to.day == from.day && to.ms_of_day < from.ms_of_day))
        years--;
    return years;
}

/* ---- names to ASCII ------------------------------------------------- */

/* Lowercase ASCII letter for U+00C0..U+017F ('_' = drop: × and ÷). */
static const char latin_fold[] =
    "aaaaaaaceeeeiiii" "dnooooo_ouuuuyts" "aaaaaaaceeeeiiii" "dnooooo_ouuuuyty"
    "aaaaaaccccccccdd" "ddeeeeeeeeeegggg" "gggghhhhiiiiiiii" "iijjjjkkklllllll"
    "lllnnnnnnnnnoooo" "oooorrrrrrssssss" "ssttttttuuuuuuuu" "uuuuwwyyyzzzzzzs";

size_t sl_users_fold_ascii(const char *name, char *out, size_t capacity)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)name;
    while (*p) {
        const char *ascii = NULL;
        char one[2] = { 0, 0 };
        if (*p < 0x80) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')
                one[0] = (char)*p;
            else if (*p >= 'A' && *p <= 'Z')
                one[0] = (char)(*p - 'A' + 'a');
            p++;
        } else {
            unsigned code = 0;
            if (*p >= 0xC3 && *p <= 0xC5 && (p[1] & 0xC0) == 0x80)
                code = ((unsigned)(*p & 0x1F) << 6) | (p[1] & 0x3F);
            if (code == 0xC6 || code == 0xE6) ascii = "ae";
            else if (code == 0xDF) ascii = "ss";
            else if (code == 0xDE || code == 0xFE) ascii = "th";
            else if (code == 0x152 || code == 0x153) ascii = "oe";
            else if (code >= 0xC0 && latin_fold[code - 0xC0] != '_')
                one[0] = latin_fold[code - 0xC0];
            p++;                                      /* lead byte, then its continuations */
            while ((*p & 0xC0) == 0x80) p++;
        }
        if (!ascii) ascii = one;
        for (; *ascii && n < capacity; ascii++) out[n++] = *ascii;
    }
    return n;
}

static void put_folded(text_writer *w, const char *name)
{
    w->pos += sl_users_fold_ascii(name, w->pos, (size_t)(w->end - w->pos));
}

/* ---- the record ------------------------------------------------------- */

#define N_MEMBERS 44   /* every member of every object of one record */

static inline void set(sl_member *member, sl_str key, sl_value value)
{
    member->key = key;
    member->value = value;
}

static inline sl_value object_of(sl_member *members, size_t n)
{
    sl_value value = { .type = SL_TYPE_OBJECT };
    value.object.members = members;
    value.object.n_members = n;
    return value;
}

static inline sl_value text_since(const text_writer *w, const char *start)
{
    return sl_value_string((sl_str){ start, (size_t)(w->pos - start) });
}



static void put_picture(text_writer *w, sl_str size, bool is_male, uint32_t number)
{
    put_bytes(w, "https://randomuser.me/api/portraits/", 36);
    put_str(w, size);
    put_str(w, is_male ? SL_STR_LIT("men/") : SL_STR_LIT("women/"));
    put_uint(w, number);
    put_bytes(w, ".jpg", 4);
}

int sl_users_build_record(sl_arena *arena, uint64_t seed, uint64_t index, sl_value *out)
{
    users_rng rng = { mix64(mix64(seed) ^ index), 0, 0 };
    sl_member *m = sl_arena_alloc(arena, N_MEMBERS * sizeof *m);
    char *text = sl_arena_alloc(arena, TEXT_CAPACITY);
    if (!m || !text) return SL_ENOMEM;
    text_writer w = { text, text + TEXT_CAPACITY, false };
    sl_member *top = m, *name = top + 12, *location = name + 3, *street = location + 7,
              *coordinates = street + 2, *timezone = coordinates + 2, *login = timezone + 2,
              *dob = login + 7, *registered = dob + 2, *id = registered + 2,
              *picture = id + 2;
    char *start;

    /* The uuid takes the first two draws (see the top of this file). */
    start = w.pos;
    put_uuid(&w, &rng);
    set(&login[0], SL_STR_LIT("uuid"), text_since(&w, start));

    bool is_male = rng_small(&rng, 2) == 0;
    const nationality *nat = &nationalities[rng_small(&rng, COUNT_OF(nationalities))];
    sl_str title;
    if (nat->has_french_titles)
        title = is_male ? male_french_titles[0] : pick(&rng, female_french_titles, 2);
    else
        title = is_male ? male_titles[0] : pick(&rng, female_titles, 3);
    sl_str first = is_male ? pick(&rng, male_first_names, COUNT_OF(male_first_names))
                                : pick(&rng, female_first_names, COUNT_OF(female_first_names));
    sl_str last = pick(&rng, last_names, COUNT_OF(last_names));
    set(&name[0], SL_STR_LIT("title"), sl_value_string(title));
    set(&name[1], SL_STR_LIT("first"), sl_value_string(first));
    set(&name[2], SL_STR_LIT("last"), sl_value_string(last));

    set(&street[0], SL_STR_LIT("number"), sl_value_int(1 + rng_small(&rng, 9999)));
    set(&street[1], SL_STR_LIT("name"),
        sl_value_string(pick(&rng, street_names, COUNT_OF(street_names))));
    set(&location[0], SL_STR_LIT("street"), object_of(street, 2));
    set(&location[1], SL_STR_LIT("city"),
        sl_value_string(pick(&rng, nat->cities, nat->n_cities)));
    set(&location[2], SL_STR_LIT("state"),
        sl_value_string(pick(&rng, nat->states, nat->n_states)));
    set(&location[3], SL_STR_LIT("country"), sl_value_string(nat->country));
    if (nat->postcode_pattern) {
        start = w.pos;
        put_pattern(&w, nat->postcode_pattern, &rng);
        set(&location[4], SL_STR_LIT("postcode"), text_since(&w, start));
    } else {
        uint32_t span = (uint32_t)(nat->postcode_max - nat->postcode_min + 1);
        set(&location[4], SL_STR_LIT("postcode"),
            sl_value_int(nat->postcode_min + rng_below(&rng, span)));
    }
    start = w.pos;
    put_fixed4(&w, (int32_t)rng_below(&rng, 1800001) - 900000);
    set(&coordinates[0], SL_STR_LIT("latitude"), text_since(&w, start));
    start = w.pos;
    put_fixed4(&w, (int32_t)rng_below(&rng, 3600001) - 1800000);
    set(&coordinates[1], SL_STR_LIT("longitude"), text_since(&w, start));
    set(&location[5], SL_STR_LIT("coordinates"), object_of(coordinates, 2));
    const timezone_entry *zone = &timezones[rng_small(&rng, COUNT_OF(timezones))];
    set(&timezone[0], SL_STR_LIT("offset"), sl_value_string(zone->offset));
    set(&timezone[1], SL_STR_LIT("description"), sl_value_string(zone->description));
    set(&location[6], SL_STR_LIT("timezone"), object_of(timezone, 2));

    start = w.pos;
    put_folded(&w, first.ptr);
    put_char(&w, '.');
    put_folded(&w, last.ptr);
    put_bytes(&w, "@example.com", 12);
    sl_value email = text_since(&w, start);

    start = w.pos;
    put_str(&w, pick(&rng, adjectives, COUNT_OF(adjectives)));
    put_str(&w, pick(&rng, animals, COUNT_OF(animals)));
    put_uint(&w, 100 + rng_small(&rng, 900));
    set(&login[1], SL_STR_LIT("username"), text_since(&w, start));
    set(&login[2], SL_STR_LIT("password"),
        sl_value_string(pick(&rng, passwords, COUNT_OF(passwords))));
    start = w.pos;
    put_salt(&w, &rng);
    set(&login[3], SL_STR_LIT("salt"), text_since(&w, start));
    start = w.pos;
    put_hex(&w, &rng, 32);
    set(&login[4], SL_STR_LIT("md5"), text_since(&w, start));
    start = w.pos;
    put_hex(&w, &rng, 40);
    set(&login[5], SL_STR_LIT("sha1"), text_since(&w, start));
    start = w.pos;
    put_hex(&w, &rng, 64);
    set(&login[6], SL_STR_LIT("sha256"), text_since(&w, start));

    /* Born 18 to 77 years before the reference instant; registered at 10 or
     * older, at most 20 years before it. */
    int64_t reference_ms = SL_USERS_REFERENCE_EPOCH_S * 1000;
    uint32_t born_s = 18 * SECONDS_PER_YEAR + rng_below(&rng, 59 * SECONDS_PER_YEAR);
    int64_t born_ms = reference_ms - (int64_t)born_s * 1000 - rng_small(&rng, 1000);
    uint32_t registered_span = born_s - 10 * SECONDS_PER_YEAR;
    if (registered_span > 20 * SECONDS_PER_YEAR) registered_span = 20 * SECONDS_PER_YEAR;
    int64_t registered_ms =
        reference_ms - (int64_t)rng_below(&rng, registered_span) * 1000 - rng_small(&rng, 1000);
    start = w.pos;
    civil_time reference = civil_from_ms(reference_ms);
    civil_time born = civil_from_ms(born_ms), joined = civil_from_ms(registered_ms);
    put_date(&w, born);
    set(&dob[0], SL_STR_LIT("date"), text_since(&w, start));
    set(&dob[1], SL_STR_LIT("age"), sl_value_int(full_years(born, reference)));
    start = w.pos;
    put_date(&w, joined);
    set(&registered[0], SL_STR_LIT("date"), text_since(&w, start));
    set(&registered[1], SL_STR_LIT("age"), sl_value_int(full_years(joined, reference)));

    start = w.pos;
    put_pattern(&w, nat->phone_pattern, &rng);
    sl_value phone = text_since(&w, start);
    start = w.pos;
    put_pattern(&w, nat->cell_pattern, &rng);
    sl_value cell = text_since(&w, start);

    set(&id[0], SL_STR_LIT("name"), sl_value_string(nat->id_name));
    if (nat->id_pattern) {
        start = w.pos;
        put_pattern(&w, nat->id_pattern, &rng);
        set(&id[1], SL_STR_LIT("value"), text_since(&w, start));
    } else {
        set(&id[1], SL_STR_LIT("value"), sl_value_null());
    }

    uint32_t portrait = rng_small(&rng, 100);
    static const sl_str sizes[] = { W(""), W("med/"), W("thumb/") };
    static const sl_str size_keys[] = { SL_STR_LIT("large"), SL_STR_LIT("medium"),
                                        SL_STR_LIT("thumbnail") };
    for (int i = 0; i < 3; i++) {
        start = w.pos;
        put_picture(&w, sizes[i], is_male, portrait);
        set(&picture[i], size_keys[i], text_since(&w, start));
    }

    set(&top[0], SL_STR_LIT("gender"),
        sl_value_string(is_male ? SL_STR_LIT("male") : SL_STR_LIT("female")));
    set(&top[1], SL_STR_LIT("name"), object_of(name, 3));
    set(&top[2], SL_STR_LIT("location"), object_of(location, 7));
    set(&top[3], SL_STR_LIT("email"), email);
    set(&top[4], SL_STR_LIT("login"), object_of(login, 7));
    set(&top[5], SL_STR_LIT("dob"), object_of(dob, 2));
    set(&top[6], SL_STR_LIT("registered"), object_of(registered, 2));
    set(&top[7], SL_STR_LIT("phone"), phone);
    set(&top[8], SL_STR_LIT("cell"), cell);
    set(&top[9], SL_STR_LIT("id"), object_of(id, 2));
    set(&top[10], SL_STR_LIT("picture"), object_of(picture, 3));
    set(&top[11], SL_STR_LIT("nat"), sl_value_string(nat->code));

    if (w.is_truncated) return SL_ETOOBIG;
    /* Give back the unused tail of the text area. It is the arena's last
     * allocation, so this shrinks in place and the strings stay put. */
    (void)sl_arena_realloc(arena, text, TEXT_CAPACITY, (size_t)(w.pos - text));
    *out = object_of(top, 12);
    return SL_OK;
}
