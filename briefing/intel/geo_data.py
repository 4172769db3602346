# ruff: noqa: E501  (data tables: one record a line reads better than wrapped records)
"""Hand-written gazetteer: countries and regions (data only; ``geo.py`` holds the logic).

COUNTRY_TABLE lines are ``CODE|Name|other names|demonyms and adjectives|cities and provinces``,
``;``-separated within a field. Codes are ISO 3166-1 alpha-2 (XK for Kosovo, the common
user-assigned code). Short forms that are also two-letter codes ("UK", "US") are listed as
*exact* forms in ``EXACT_FORMS`` instead: they only count when written exactly so.

Region membership is a project decision, one line per region, written out rather than derived
from UN M49 so that each choice can be read and tested (see REGION_TABLE).
"""

from __future__ import annotations

COUNTRY_TABLE = """
AF|Afghanistan||Afghan;Afghans;Afghanistani|Kabul;Kandahar;Herat
AL|Albania||Albanian;Albanians|Tirana
DZ|Algeria||Algerian;Algerians|Algiers
AD|Andorra||Andorran|
AO|Angola||Angolan;Angolans|Luanda
AG|Antigua and Barbuda|||
AR|Argentina||Argentine;Argentinian;Argentinean;Argentines|Buenos Aires
AM|Armenia||Armenian;Armenians|Yerevan
AU|Australia||Australian;Australians|Canberra;Sydney;Melbourne;Brisbane;Perth
AT|Austria||Austrian;Austrians|Vienna
AZ|Azerbaijan||Azerbaijani;Azerbaijanis;Azeri;Azeris|Baku
BS|Bahamas|The Bahamas|Bahamian|
BH|Bahrain||Bahraini;Bahrainis|Manama
BD|Bangladesh||Bangladeshi;Bangladeshis|Dhaka
BB|Barbados||Barbadian|
BY|Belarus|Byelorussia|Belarusian;Belarusians;Belarussian|Minsk
BE|Belgium||Belgian;Belgians|Brussels;Antwerp
BZ|Belize||Belizean|
BJ|Benin||Beninese|
BT|Bhutan||Bhutanese|Thimphu
BO|Bolivia||Bolivian;Bolivians|La Paz
BA|Bosnia and Herzegovina|Bosnia;Bosnia-Herzegovina|Bosnian;Bosnians|Sarajevo
BW|Botswana||Botswanan|Gaborone
BR|Brazil||Brazilian;Brazilians|Brasilia;Brasília;Sao Paulo;São Paulo;Rio de Janeiro
BN|Brunei|Brunei Darussalam|Bruneian|
BG|Bulgaria||Bulgarian;Bulgarians|Sofia
BF|Burkina Faso||Burkinabe|Ouagadougou
BI|Burundi||Burundian|
CV|Cabo Verde|Cape Verde|Cape Verdean|
KH|Cambodia||Cambodian;Cambodians|Phnom Penh
CM|Cameroon||Cameroonian;Cameroonians|Yaounde
CA|Canada||Canadian;Canadians|Ottawa;Toronto;Montreal;Vancouver
CF|Central African Republic|||Bangui
TD|Chad||Chadian|N'Djamena
CL|Chile||Chilean;Chileans|Santiago
CN|China|People's Republic of China;People’s Republic of China;Mainland China;PR China|Chinese|Beijing;Shanghai;Shenzhen;Guangzhou;Chengdu;Wuhan;Tianjin;Xinjiang;Tibet;Sichuan;Guangdong;Hainan;Fujian
CO|Colombia||Colombian;Colombians|Bogota;Bogotá;Medellin
KM|Comoros||Comorian|
CD|Democratic Republic of the Congo|DR Congo;DRC;Congo-Kinshasa|Congolese|Kinshasa
CG|Republic of the Congo|Congo-Brazzaville||Brazzaville
CR|Costa Rica||Costa Rican;Costa Ricans|San Jose
CI|Ivory Coast|Cote d'Ivoire;Côte d'Ivoire;Côte d’Ivoire|Ivorian|Abidjan
HR|Croatia||Croatian;Croatians|Zagreb
CU|Cuba||Cuban;Cubans|Havana
CY|Cyprus||Cypriot;Cypriots|Nicosia
CZ|Czechia|Czech Republic|Czech;Czechs|Prague
DK|Denmark||Danish;Dane;Danes|Copenhagen
DJ|Djibouti||Djiboutian|
DM|Dominica|||
DO|Dominican Republic||Dominican|Santo Domingo
EC|Ecuador||Ecuadorian;Ecuadorians|Quito
EG|Egypt||Egyptian;Egyptians|Cairo;Alexandria
SV|El Salvador||Salvadoran;Salvadorans|San Salvador
GQ|Equatorial Guinea||Equatoguinean|
ER|Eritrea||Eritrean;Eritreans|Asmara
EE|Estonia||Estonian;Estonians|Tallinn
SZ|Eswatini|Swaziland|Swazi|
ET|Ethiopia||Ethiopian;Ethiopians|Addis Ababa
FJ|Fiji||Fijian|
FI|Finland||Finnish;Finn;Finns|Helsinki
FR|France||French;Frenchman|Paris;Lyon;Marseille;Toulouse
GA|Gabon||Gabonese|
GM|Gambia|The Gambia|Gambian|
GE|Georgia|Republic of Georgia|Georgian;Georgians|Tbilisi
DE|Germany||German;Germans|Berlin;Munich;Frankfurt;Hamburg;Cologne;Bonn
GH|Ghana||Ghanaian;Ghanaians|Accra
GR|Greece||Greek;Greeks|Athens;Piraeus;Thessaloniki
GD|Grenada||Grenadian|
GT|Guatemala||Guatemalan;Guatemalans|Guatemala City
GN|Guinea||Guinean|Conakry
GW|Guinea-Bissau|||
GY|Guyana||Guyanese|
HT|Haiti||Haitian;Haitians|Port-au-Prince
HN|Honduras||Honduran;Hondurans|Tegucigalpa
HK|Hong Kong||Hongkonger;Hong Konger|
HU|Hungary||Hungarian;Hungarians|Budapest
IS|Iceland||Icelandic;Icelander;Icelanders|Reykjavik
IN|India||Indian;Indians|New Delhi;Delhi;Mumbai;Bangalore;Bengaluru;Chennai;Hyderabad;Kolkata
ID|Indonesia||Indonesian;Indonesians|Jakarta;Bali
IR|Iran|Islamic Republic of Iran|Iranian;Iranians;Persian|Tehran;Teheran;Isfahan;Mashhad
IQ|Iraq||Iraqi;Iraqis|Baghdad;Basra;Mosul;Erbil
IE|Ireland|Republic of Ireland|Irish|Dublin
IL|Israel||Israeli;Israelis|Jerusalem;Tel Aviv;Haifa
IT|Italy||Italian;Italians|Rome;Milan;Naples;Turin
JM|Jamaica||Jamaican;Jamaicans|Kingston
JP|Japan||Japanese|Tokyo;Osaka;Kyoto;Yokohama
JO|Jordan||Jordanian;Jordanians|Amman
KZ|Kazakhstan||Kazakh;Kazakhs;Kazakhstani|Astana;Almaty
KE|Kenya||Kenyan;Kenyans|Nairobi;Mombasa
KI|Kiribati|||
KP|North Korea|DPRK;Democratic People's Republic of Korea;Democratic People’s Republic of Korea|North Korean;North Koreans|Pyongyang
KR|South Korea|Republic of Korea;Korea;ROK|South Korean;South Koreans;Korean;Koreans|Seoul;Busan;Incheon
XK|Kosovo||Kosovar;Kosovan|Pristina
KW|Kuwait||Kuwaiti;Kuwaitis|Kuwait City
KG|Kyrgyzstan|Kyrgyz Republic|Kyrgyz|Bishkek
LA|Laos|Lao PDR|Laotian|Vientiane
LV|Latvia||Latvian;Latvians|Riga
LB|Lebanon||Lebanese|Beirut
LS|Lesotho||Basotho|
LR|Liberia||Liberian;Liberians|Monrovia
LY|Libya||Libyan;Libyans|Tripoli;Benghazi
LI|Liechtenstein|||
LT|Lithuania||Lithuanian;Lithuanians|Vilnius
LU|Luxembourg||Luxembourgish|
MO|Macao|Macau|Macanese|
MG|Madagascar||Malagasy|Antananarivo
MW|Malawi||Malawian|Lilongwe
MY|Malaysia||Malaysian;Malaysians|Kuala Lumpur;Malacca
MV|Maldives||Maldivian|
ML|Mali||Malian|Bamako
MT|Malta||Maltese|Valletta
MH|Marshall Islands|||
MR|Mauritania||Mauritanian|
MU|Mauritius||Mauritian|
MX|Mexico||Mexican;Mexicans|Mexico City;Guadalajara;Monterrey
FM|Micronesia|||
MD|Moldova|Republic of Moldova|Moldovan;Moldovans|Chisinau;Chișinău
MC|Monaco||Monegasque|
MN|Mongolia||Mongolian;Mongolians|Ulaanbaatar;Ulan Bator
ME|Montenegro||Montenegrin|Podgorica
MA|Morocco||Moroccan;Moroccans|Rabat;Casablanca
MZ|Mozambique||Mozambican|Maputo
MM|Myanmar|Burma|Burmese;Myanmarese|Naypyidaw;Yangon;Rangoon
NA|Namibia||Namibian|Windhoek
NR|Nauru|||
NP|Nepal||Nepali;Nepalese|Kathmandu
NL|Netherlands|The Netherlands;Holland|Dutch|Amsterdam;Rotterdam;The Hague
NZ|New Zealand||New Zealander;New Zealanders|Wellington;Auckland
NI|Nicaragua||Nicaraguan;Nicaraguans|Managua
NE|Niger||Nigerien|Niamey
NG|Nigeria||Nigerian;Nigerians|Abuja;Lagos
MK|North Macedonia|Macedonia|Macedonian;Macedonians|Skopje
NO|Norway||Norwegian;Norwegians|Oslo
OM|Oman||Omani;Omanis|Muscat
PK|Pakistan||Pakistani;Pakistanis|Islamabad;Karachi;Lahore;Rawalpindi
PW|Palau|||
PS|Palestine|Palestinian Territories;Palestinian Territory;West Bank;Gaza Strip;Gaza|Palestinian;Palestinians|Ramallah
PA|Panama||Panamanian;Panamanians|Panama City
PG|Papua New Guinea|||Port Moresby
PY|Paraguay||Paraguayan|Asuncion
PE|Peru||Peruvian;Peruvians|Lima
PH|Philippines|The Philippines;Philippine Islands;Phillipine Islands|Philippine;Filipino;Filipinos|Manila;Quezon City
PL|Poland||Polish;Poles|Warsaw;Krakow;Kraków
PT|Portugal||Portuguese|Lisbon;Porto
PR|Puerto Rico||Puerto Rican|San Juan
QA|Qatar||Qatari;Qataris|Doha
RO|Romania||Romanian;Romanians|Bucharest
RU|Russia|Russian Federation|Russian;Russians|Moscow;St. Petersburg;Saint Petersburg;Chechnya;Chechen
RW|Rwanda||Rwandan|Kigali
SA|Saudi Arabia|Kingdom of Saudi Arabia;KSA|Saudi;Saudis;Saudi Arabian|Riyadh;Jeddah;Mecca;Medina
SN|Senegal||Senegalese|Dakar
RS|Serbia||Serbian;Serbians;Serb;Serbs|Belgrade
SC|Seychelles||Seychellois|
SL|Sierra Leone||Sierra Leonean|Freetown
SG|Singapore||Singaporean;Singaporeans|
SK|Slovakia|Slovak Republic|Slovak;Slovakian|Bratislava
SI|Slovenia||Slovenian;Slovene|Ljubljana
SB|Solomon Islands|||
SO|Somalia||Somali;Somalis|Mogadishu
ZA|South Africa||South African;South Africans|Johannesburg;Pretoria;Cape Town;Durban
SS|South Sudan||South Sudanese|Juba
ES|Spain||Spanish;Spaniard;Spaniards|Madrid;Barcelona;Valencia;Seville
LK|Sri Lanka||Sri Lankan;Sri Lankans|Colombo
SD|Sudan||Sudanese|Khartoum
SR|Suriname||Surinamese|
SE|Sweden||Swedish;Swede;Swedes|Stockholm;Gothenburg
CH|Switzerland||Swiss|Bern;Zurich;Zürich;Geneva;Lausanne
SY|Syria|Syrian Arab Republic|Syrian;Syrians|Damascus;Aleppo
TW|Taiwan|Republic of China|Taiwanese|Taipei;Kaohsiung
TJ|Tajikistan||Tajik;Tajiks|Dushanbe
TZ|Tanzania||Tanzanian;Tanzanians|Dodoma;Dar es Salaam
TH|Thailand||Thai|Bangkok
TL|Timor-Leste|East Timor;Timor Leste|Timorese|Dili
TG|Togo||Togolese|Lome
TO|Tonga||Tongan|
TT|Trinidad and Tobago||Trinidadian|
TN|Tunisia||Tunisian;Tunisians|Tunis
TR|Turkey|Türkiye;Turkiye|Turkish;Turk;Turks|Ankara;Istanbul;Izmir
TM|Turkmenistan||Turkmen|Ashgabat
UG|Uganda||Ugandan;Ugandans|Kampala
UA|Ukraine|The Ukraine|Ukrainian;Ukrainians|Kyiv;Kiev;Kharkiv;Kharkov;Odesa;Odessa;Lviv;Donbas;Donbass;Crimea;Donetsk;Luhansk;Mariupol
AE|United Arab Emirates|Emirates|Emirati;Emiratis|Abu Dhabi;Dubai;Sharjah
GB|United Kingdom|Great Britain;Britain;England;Scotland;Wales;Northern Ireland|British;Briton;Britons;Scottish;Welsh|London;Manchester;Birmingham;Edinburgh;Glasgow;Cardiff;Belfast
US|United States|United States of America;America|American;Americans|Washington;Washington DC;Washington D.C.;New York;New York City;Los Angeles;San Francisco;Chicago;Houston;Seattle;Boston;Atlanta;Miami;Dallas;Texas;Florida;California;Virginia;New Jersey;Arizona;Maryland;Ohio;Michigan;Illinois;Pennsylvania;Massachusetts;Colorado;Oregon;Nevada;Utah;Minnesota;Wisconsin;Missouri;Tennessee;Kentucky;Alabama;Louisiana;Oklahoma;Kansas;Nebraska;Iowa;Indiana;North Carolina;South Carolina;Connecticut;Delaware;Alaska;Hawaii;New Mexico;Idaho;Montana;Wyoming;Arkansas;Mississippi;Vermont;New Hampshire;Rhode Island;West Virginia;North Dakota;South Dakota;Silicon Valley;Pentagon
UY|Uruguay||Uruguayan|Montevideo
UZ|Uzbekistan||Uzbek;Uzbeks|Tashkent
VU|Vanuatu|||
VA|Vatican|Vatican City;Holy See||
VE|Venezuela||Venezuelan;Venezuelans|Caracas
VN|Vietnam|Viet Nam|Vietnamese|Hanoi;Ho Chi Minh City;Saigon
EH|Western Sahara|||
YE|Yemen||Yemeni;Yemenis|Sanaa;Sana'a;Aden
ZM|Zambia||Zambian;Zambians|Lusaka
ZW|Zimbabwe||Zimbabwean;Zimbabweans|Harare
GL|Greenland||Greenlandic|Nuuk
TC|Turks and Caicos Islands|||
VG|British Virgin Islands|||
KY|Cayman Islands|||
BM|Bermuda||Bermudian|
GU|Guam|||
AS|American Samoa|||
WS|Samoa||Samoan|
NC|New Caledonia|||
PF|French Polynesia|||
GI|Gibraltar|||
IM|Isle of Man|||
JE|Jersey|||
GG|Guernsey|||
FO|Faroe Islands|||
AX|Aland Islands|Åland Islands||
CW|Curacao|Curaçao||
AW|Aruba|||
KN|Saint Kitts and Nevis|||
LC|Saint Lucia|||
VC|Saint Vincent and the Grenadines|||
SM|San Marino|||
ST|Sao Tome and Principe|São Tomé and Príncipe||
"""

# Exact (case-sensitive) short forms. The dots may be missing or spaced ("U.S", "U.S .").
# "US" and "UK" are two-letter codes but also how news writes the countries; they count
# only in upper case and not inside an all-capitals run (see geo.py).
EXACT_FORMS: dict[str, str] = {
    "U.S.": "US",
    "US": "US",
    "USA": "US",
    "U.S.A.": "US",
    "UK": "GB",
    "U.K.": "GB",
    "UAE": "AE",
    "U.A.E.": "AE",
    "PRC": "CN",
    "P.R.C.": "CN",
    "DPRK": "KP",
    "ROK": "KR",
    "KSA": "SA",
    "USSR": "RU",
    "DRC": "CD",
}

# National agencies that defend, investigate, regulate or legislate: where one acts (an FBI
# warning, a CISA order, an ICO fine) is the story's jurisdiction, so the agency names its
# country as a place (the guide's "a national agency's order"). Written exactly so. Only
# agencies whose acronym is no common word and no other country's; intelligence services that
# attack (GRU, FSB, MSS...) are actor nouns in geo.py, never places.
AGENCY_FORMS: dict[str, str] = {
    "FBI": "US",
    "CISA": "US",
    "NSA": "US",
    "DHS": "US",
    "DOJ": "US",
    "HHS": "US",
    "OFAC": "US",
    "FTC": "US",
    "FCC": "US",
    "NCA": "GB",
    "GCHQ": "GB",
    "ANSSI": "FR",
    "CNIL": "FR",
    "CERT-UA": "UA",
    "SBU": "UA",
    "ACSC": "AU",
    "JPCERT": "JP",
    "KISA": "KR",
    "BKA": "DE",
}
EXACT_FORMS.update(AGENCY_FORMS)

# Names that denote a country but are not its modern name; attributed as written.
HISTORICAL_NAMES: dict[str, str] = {"Soviet Union": "RU", "Soviet": "RU", "Persia": "IR"}

# Region | aliases | derive? | members. ``derive``: whether a target (or mentioned) country
# adds this region to an article's regions. UN M49 subregions are recognised when named but
# not derived (they would crowd the "by region" sections); the analysts' regions are.
REGION_TABLE = """
Middle East|Middle Eastern;Mideast;Near East;Arab world;Arab countries;Arab states|1|BH EG IR IQ IL JO KW LB OM PS QA SA SY TR AE YE
Gulf|Gulf states;Gulf countries;Gulf region;Persian Gulf;Arabian Gulf;GCC;Gulf Cooperation Council|1|BH KW OM QA SA AE
Levant||0|IL JO LB PS SY
MENA|Middle East and North Africa|0|BH EG IR IQ IL JO KW LB OM PS QA SA SY TR AE YE DZ LY MA SD TN EH
North America|North American|1|US CA
Latin America|Latin American;LATAM;LatAm;South and Central America|1|MX BZ CR SV GT HN NI PA AR BO BR CL CO EC GY PY PE SR UY VE CU DO HT JM PR TT BS BB
Central America|Central American|0|BZ CR SV GT HN MX NI PA
South America|South American|0|AR BO BR CL CO EC FK GF GY PY PE SR UY VE
Caribbean||0|AI AG AW BS BB BQ VG KY CU CW DM DO GD GP HT JM MQ MS PR BL KN LC MF VC SX TT TC VI
Europe|European;European Union|1|AL AD AT BY BE BA BG HR CY CZ DK EE FO FI FR DE GI GR HU IS IE IM IT XK LV LI LT LU MT MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SE CH UA GB VA AX GG JE
Eastern Europe|Eastern European;Central and Eastern Europe;CEE|1|BY BG CZ HU MD PL RO RU SK UA EE LV LT
Western Europe|Western European|1|AT BE FR DE LI LU MC NL CH GB IE
Northern Europe|Northern European|0|DK EE FI IS IE LV LT NO SE GB FO AX
Southern Europe|Southern European|0|AL AD BA HR GR VA IT MT ME MK PT SM RS SI ES XK GI
Nordics|Nordic;Nordic countries;Scandinavia;Scandinavian|0|DK FI IS NO SE
Balkans|Balkan;Western Balkans|0|AL BA BG HR XK ME MK RS SI
Caucasus|South Caucasus;Caucasian|0|AM AZ GE
Africa|African|1|DZ EG LY MA SD TN EH BI KM DJ ER ET KE MG MW MU MZ RW SC SO SS UG TZ ZM ZW AO CM CF TD CG CD GQ GA ST BW SZ LS NA ZA BJ BF CV CI GM GH GN GW LR ML MR NE NG SN SL TG
North Africa|North African;Northern Africa|0|DZ EG LY MA SD TN EH
Sub-Saharan Africa|Sub-Saharan|0|BI KM DJ ER ET KE MG MW MU MZ RW SC SO SS UG TZ ZM ZW AO CM CF TD CG CD GQ GA ST BW SZ LS NA ZA BJ BF CV CI GM GH GN GW LR ML MR NE NG SN SL TG SD
Central Asia|Central Asian|1|KZ KG TJ TM UZ
East Asia|East Asian;Eastern Asia;Far East|1|CN HK MO KP JP MN KR TW
Southeast Asia|Southeast Asian;South-East Asia;South-East Asian;South East Asia;Southeastern Asia;South-eastern Asia;ASEAN|1|BN KH ID LA MY MM PH SG TH TL VN
South Asia|South Asian;Southern Asia;Indian subcontinent|1|AF BD BT IN MV NP PK LK
Western Asia|West Asia|0|AM AZ BH CY GE IQ IL JO KW LB OM QA SA PS SY TR AE YE
Asia-Pacific|Asia Pacific;APAC;Indo-Pacific;Pacific Rim|1|CN HK MO KP JP MN KR TW BN KH ID LA MY MM PH SG TH TL VN AF BD BT IN MV NP PK LK AU NZ FJ PG SB VU NC KI MH FM NR PW WS TO TV
Asia|Asian|0|CN HK MO KP JP MN KR TW BN KH ID LA MY MM PH SG TH TL VN AF BD BT IN MV NP PK LK IR KZ KG TJ TM UZ AM AZ BH GE IQ IL JO KW LB OM QA SA PS SY TR AE YE
Oceania|Australasia|0|AU NZ FJ PG SB VU NC KI MH FM NR PW WS TO TV PF AS GU
EMEA||0|
"""
