/**
 * Word lists behind the local embedder and the near-miss guards. They are small on purpose: general
 * English, no domain tuning. The guards err on the side of refusing a hit (a refused paraphrase costs
 * one upstream call; a wrong answer served from the cache costs trust).
 */

const words = (s: string): string[] => s.trim().split(/\s+/);
const set = (s: string): ReadonlySet<string> => new Set(words(s));

/** Removed before embedding: they say little about what is asked. */
export const STOP_WORDS = set(`
  a an the is are was were be been being am do does did doing done i me my mine we our ours us you your yours
  it its itself this that these those there here of to in on at for with from by about into onto as and or so
  then than also just really very can could would should will shall may might must please kindly tell let
  explain describe define definition meaning mean means stand some any have has had having get gets got getting
  know want wanted like whats hows wheres whos thats they them their he she his her him
  anyone someone something anything thing things way ways possible idea actually basically generally help
  hey hi hello thanks thank regards question quick simple exactly
`);

/**
 * Kept, with a low weight: question words (how vs when changes the question a little, but paraphrases
 * swap them) and verbs and nouns that most questions could carry ("use", "work", "best", "need").
 * Compared after canonicalization.
 */
export const LIGHT_WORDS = set(`
  what how why when where who whom whose which much many best good way use work required travel happen
  convert available time do go try find see look
`);

/**
 * Phrases rewritten before anything else (lower-case, whole words). Mostly multi-word verbs that have
 * a one-word synonym, so that "turn on" and "enable" are the same feature and the opposite-pair guard
 * sees "enable" vs "disable".
 */
export const PHRASES: readonly (readonly [string, string])[] = [
  ['get rid of', 'delete'],
  ['turn on', 'enable'],
  ['switch on', 'enable'],
  ['turn off', 'disable'],
  ['switch off', 'disable'],
  ['log in', 'login'],
  ['log into', 'login'],
  ['log on', 'login'],
  ['sign in', 'login'],
  ['sign into', 'login'],
  ['log out', 'logout'],
  ['log off', 'logout'],
  ['sign out', 'logout'],
  ['sign up', 'register'],
  ['get in touch with', 'contact'],
  ['get in touch', 'contact'],
  ['talk to', 'contact'],
  ['speak with', 'contact'],
  ['speak to', 'contact'],
  ['reach out to', 'contact'],
  ['instead of', 'substitute'],
  ['in place of', 'substitute'],
  ['speed up', 'fast'],
  ['figure out', 'calculate'],
  ['work out how much', 'calculate'],
  ['money back', 'refund'],
  ['send back', 'return'],
  ['time off', 'vacation'],
  ['day off', 'vacation'],
  ['days off', 'vacation'],
  ['regular expressions', 'regex'],
  ['regular expression', 'regex'],
  ['web site', 'website'],
  ['wi fi', 'wifi'],
  ['e mail', 'email'],
  ['e mails', 'email'],
  ['per cent', 'percent'],
  ['how come', 'why'],
  ['square root', 'sqrt'],
  ['what causes', 'why'],
  ['what makes', 'why'],
  ['what is the reason', 'why'],
];

/** One-word synonyms, each mapped to a canonical word (looked up before and after stemming). */
const SYNONYM_GROUPS: readonly string[] = [
  'delete remove erase',
  'change update modify edit alter',
  'create make generate',
  'start begin commence',
  'exit quit',
  'fast quick quickly rapid rapidly speedy faster quicker quickest fastest speed',
  'large big bigger biggest larger largest huge',
  'small little tiny smaller smallest',
  'cheap inexpensive cheaply cheaper cheapest affordable',
  'cost price pricing',
  'buy purchase',
  'contact reach',
  'car automobile vehicle',
  'child children kid kids',
  'doctor physician',
  'photo picture pic',
  'allowed permitted allow permit',
  'required require necessary mandatory need',
  'login signin',
  'logout signout',
  'register signup enroll enrol',
  'write wrote written writer author',
  'paint painted painter',
  'invent invented inventor invention',
  'founder founded',
  'fix repair solve resolve troubleshoot',
  'problem issue trouble',
  'show display',
  'learn study',
  'happen occur',
  'why cause reason',
  'temperature temp',
  'travel visit trip',
  'day daily',
  'phone smartphone cellphone mobile',
  'wifi wireless',
  'email mail',
  'website site webpage',
  'app application apps applications',
  'password passcode',
  'ship shipping delivery deliver shipment',
  'discount coupon promo promotion',
  'dictionary dict dicts dictionaries',
  'regex regexp',
  'repository repo repos',
  'database db',
  'directory folder dir',
  'function func',
  'variable var',
  'string str',
  'integer int',
  'document doc',
  'configuration config',
  'documentation docs',
  'environment env',
  'argument arg args parameter param',
  'package pkg',
  'library lib',
  'duplicate duplicates dupe dupes',
  'calculate calc compute',
  'tall height',
  'baggage luggage bag bags suitcase',
  'vaccine vaccination vaccinations jab',
  'medication medicine drug meds',
  'boss manager supervisor',
  'employee staff worker',
  'tip gratuity',
  'sight attraction landmark',
  'good great',
  'substitute replacement alternative',
  'store keep preserve',
  'difference differ different vs versus',
  'people person population',
  'sleep asleep',
  'request ask',
  'rain rainy raining rainfall',
  'snow snowy snowing snowfall',
  'sun sunny sunshine',
  'wind windy',
  'humid humidity',
  'paid pay payday',
];

export const SYNONYMS: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const group of SYNONYM_GROUPS) {
    const [canonical, ...rest] = words(group);
    for (const w of rest) m.set(w, canonical!);
    m.set(canonical!, canonical!);
  }
  return m;
})();

/** Irregular forms the suffix rules would get wrong. */
export const IRREGULAR: ReadonlyMap<string, string> = new Map([
  ['does', 'do'],
  ['did', 'do'],
  ['done', 'do'],
  ['goes', 'go'],
  ['went', 'go'],
  ['gone', 'go'],
  ['made', 'create'],
  ['making', 'create'],
  ['ran', 'run'],
  ['running', 'run'],
  ['took', 'take'],
  ['taken', 'take'],
  ['bought', 'buy'],
  ['sold', 'sell'],
  ['knew', 'know'],
  ['known', 'know'],
  ['ate', 'eat'],
  ['eaten', 'eat'],
  ['flew', 'fly'],
  ['flies', 'fly'],
  ['flown', 'fly'],
  ['children', 'child'],
  ['people', 'people'],
  ['men', 'man'],
  ['women', 'woman'],
  ['feet', 'foot'],
  ['teeth', 'tooth'],
  ['mice', 'mouse'],
  ['better', 'good'],
  ['best', 'best'],
  ['worse', 'bad'],
  ['worst', 'bad'],
]);

/** Words whose trailing `s`, `ly` or `ing` is not a suffix. */
export const STEM_EXCEPTIONS = set(`
  news series species physics mathematics analytics economics politics always perhaps its this thus bus gas lens
  yes is was has does his hers ours yours plus minus bonus status virus campus census canvas atlas alias
  chaos kubernetes pandas redis mercurial windows ios macos ubuntu linux vs
  only early family supply apply reply italy july assembly ally fly daily belly jelly holy
  thing king ring spring string bring sing wing evening morning ceiling wedding pudding
  during nothing something anything everything sibling
`);

/** Negation cues: a question and its cached neighbour must have as many. */
export const NEGATIONS = set(`
  not no never without none nobody nothing nowhere neither nor cannot cant dont doesnt didnt isnt arent wasnt
  werent wont wouldnt shouldnt couldnt hasnt havent hadnt mustnt unsafe unable impossible illegal invalid
  incorrect unavailable unsupported unpaid unopened unhealthy
`);

/**
 * Opposite pairs: a question with one side and a neighbour with the other (and not both) are
 * different questions, however close their words ("turn on dark mode" / "turn off dark mode").
 */
export const OPPOSITES: readonly (readonly [string, string])[] = [
  ['enable', 'disable'],
  ['buy', 'sell'],
  ['upload', 'download'],
  ['import', 'export'],
  ['encrypt', 'decrypt'],
  ['compress', 'decompress'],
  ['zip', 'unzip'],
  ['lock', 'unlock'],
  ['mount', 'unmount'],
  ['install', 'uninstall'],
  ['subscribe', 'unsubscribe'],
  ['follow', 'unfollow'],
  ['block', 'unblock'],
  ['mute', 'unmute'],
  ['ascending', 'descending'],
  ['increase', 'decrease'],
  ['increase', 'lower'],
  ['raise', 'lower'],
  ['minimum', 'maximum'],
  ['min', 'max'],
  ['before', 'after'],
  ['open', 'close'],
  ['add', 'delete'],
  ['login', 'logout'],
  ['start', 'stop'],
  ['read', 'write'],
  ['pro', 'con'],
  ['benefit', 'risk'],
  ['advantage', 'disadvantage'],
  ['horizontal', 'vertical'],
  ['horizontally', 'vertically'],
  ['input', 'output'],
  ['send', 'receive'],
  ['push', 'pull'],
  ['win', 'lose'],
  ['above', 'below'],
  ['over', 'under'],
  ['inside', 'outside'],
  ['first', 'last'],
  ['left', 'right'],
  ['north', 'south'],
  ['east', 'west'],
  ['up', 'down'],
  ['more', 'less'],
  ['higher', 'lower'],
  ['high', 'low'],
  ['slow', 'fast'],
  ['hot', 'cold'],
  ['male', 'female'],
  ['public', 'private'],
  ['true', 'false'],
  ['uppercase', 'lowercase'],
  ['deposit', 'withdraw'],
  ['credit', 'debit'],
  ['income', 'expense'],
  ['profit', 'loss'],
  ['asset', 'liability'],
  ['domestic', 'international'],
  ['day', 'night'],
  ['morning', 'evening'],
  ['prevent', 'treat'],
  ['gain', 'lose'],
  ['borrow', 'lend'],
  ['import', 'export'],
  ['encode', 'decode'],
  ['serialize', 'deserialize'],
  ['connect', 'disconnect'],
  ['arrival', 'departure'],
  ['arrive', 'depart'],
  ['inbound', 'outbound'],
  ['incoming', 'outgoing'],
  ['include', 'exclude'],
  ['allow', 'deny'],
  ['accept', 'reject'],
  ['success', 'failure'],
  ['rename', 'delete'],
  ['create', 'delete'],
  ['merge', 'split'],
  ['transfer', 'request'],
];

const MONTH_NAMES: readonly (readonly [string, string])[] = [
  ['january', 'jan'],
  ['february', 'feb'],
  ['march', 'mar'],
  ['april', 'apr'],
  ['may', 'may'],
  ['june', 'jun'],
  ['july', 'jul'],
  ['august', 'aug'],
  ['september', 'sep'],
  ['sept', 'sep'],
  ['october', 'oct'],
  ['november', 'nov'],
  ['december', 'dec'],
];
/** Calendar words: months, weekdays, seasons, holidays and relative days, each to a canonical token. */
export const CALENDAR: ReadonlyMap<string, string> = new Map([
  ...MONTH_NAMES.map(([w, c]) => [w, `month:${c}`] as [string, string]),
  ...['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].flatMap((d) => [
    [d, `weekday:${d.slice(0, 3)}`] as [string, string],
    [`${d}s`, `weekday:${d.slice(0, 3)}`] as [string, string],
  ]),
  ['weekend', 'weekday:weekend'],
  ['weekends', 'weekday:weekend'],
  ['spring', 'season:spring'],
  ['summer', 'season:summer'],
  ['autumn', 'season:autumn'],
  ['winter', 'season:winter'],
  ['christmas', 'holiday:christmas'],
  ['xmas', 'holiday:christmas'],
  ['easter', 'holiday:easter'],
  ['thanksgiving', 'holiday:thanksgiving'],
  ['halloween', 'holiday:halloween'],
  ['hanukkah', 'holiday:hanukkah'],
  ['ramadan', 'holiday:ramadan'],
  ['diwali', 'holiday:diwali'],
  ['today', 'relative:today'],
  ['tonight', 'relative:tonight'],
  ['tomorrow', 'relative:tomorrow'],
  ['yesterday', 'relative:yesterday'],
]);
/** Multi-word holidays and relative dates (checked on the lower-cased text). */
export const CALENDAR_PHRASES: readonly (readonly [RegExp, string])[] = [
  [/\bnew year'?s eve\b/g, 'holiday:newyearseve'],
  [/\bnew year'?s(?: day)?\b/g, 'holiday:newyear'],
  [/\bchristmas eve\b/g, 'holiday:christmaseve'],
  [/\bgood friday\b/g, 'holiday:goodfriday'],
  [/\blabou?r day\b/g, 'holiday:laborday'],
  [/\bmemorial day\b/g, 'holiday:memorialday'],
  [/\bindependence day\b/g, 'holiday:independenceday'],
  [/\bblack friday\b/g, 'holiday:blackfriday'],
  [/\bnext (week|month|year|weekend)\b/g, 'relative:next-$1'],
  [/\blast (week|month|year|weekend|night)\b/g, 'relative:last-$1'],
  [/\bthis (week|month|year|weekend|morning|afternoon|evening)\b/g, 'relative:this-$1'],
];

/** Number words (not "one": "in one hour" and "in an hour" are the same question). */
export const NUMBER_WORDS: ReadonlyMap<string, string> = new Map([
  ['zero', '0'],
  ['two', '2'],
  ['three', '3'],
  ['four', '4'],
  ['five', '5'],
  ['six', '6'],
  ['seven', '7'],
  ['eight', '8'],
  ['nine', '9'],
  ['ten', '10'],
  ['eleven', '11'],
  ['twelve', '12'],
  ['thirteen', '13'],
  ['fourteen', '14'],
  ['fifteen', '15'],
  ['sixteen', '16'],
  ['seventeen', '17'],
  ['eighteen', '18'],
  ['nineteen', '19'],
  ['twenty', '20'],
  ['thirty', '30'],
  ['forty', '40'],
  ['fifty', '50'],
  ['sixty', '60'],
  ['seventy', '70'],
  ['eighty', '80'],
  ['ninety', '90'],
  ['hundred', '100'],
  ['thousand', '1000'],
  ['million', '1e6'],
  ['billion', '1e9'],
  ['trillion', '1e12'],
  ['dozen', '12'],
  ['half', '0.5'],
  ['twice', '2'],
  ['double', '2'],
  ['triple', '3'],
  ['first', '1st'],
  ['second', '2nd'],
  ['third', '3rd'],
  ['fourth', '4th'],
  ['fifth', '5th'],
  ['sixth', '6th'],
  ['seventh', '7th'],
  ['eighth', '8th'],
  ['ninth', '9th'],
  ['tenth', '10th'],
]);

/**
 * Units, each to a canonical symbol. `always`: a unit wherever it appears ("how many ounces in a
 * pound"); `afterNumber`: only right after a number ("5 m", "10 days"), since the word alone is common
 * ("a day at the beach", "in my words").
 */
export const UNITS_ALWAYS: ReadonlyMap<string, string> = new Map(
  (
    [
      ['km kms kilometer kilometers kilometre kilometres', 'km'],
      ['mile miles mi', 'mi'],
      ['meter meters metre metres', 'm'],
      ['centimeter centimeters centimetre centimetres cm', 'cm'],
      ['millimeter millimeters millimetre millimetres mm', 'mm'],
      ['foot feet ft', 'ft'],
      ['inch inches', 'in'],
      ['yard yards yd', 'yd'],
      ['kg kgs kilogram kilograms kilo kilos', 'kg'],
      ['gram grams', 'g'],
      ['mg milligram milligrams', 'mg'],
      ['pound pounds lb lbs', 'lb'],
      ['ounce ounces oz', 'oz'],
      ['ton tons tonne tonnes', 't'],
      ['liter liters litre litres', 'l'],
      ['ml milliliter milliliters millilitre millilitres', 'ml'],
      ['gallon gallons gal', 'gal'],
      ['quart quarts qt', 'qt'],
      ['pint pints', 'pt'],
      ['cup cups', 'cup'],
      ['tablespoon tablespoons tbsp', 'tbsp'],
      ['teaspoon teaspoons tsp', 'tsp'],
      ['celsius centigrade', '°c'],
      ['fahrenheit', '°f'],
      ['kelvin', 'kelvin'],
      ['mph', 'mph'],
      ['kph kmh', 'km/h'],
      ['knot knots', 'kn'],
      ['kb kilobyte kilobytes', 'kb'],
      ['mb megabyte megabytes', 'mb'],
      ['gb gigabyte gigabytes', 'gb'],
      ['tb terabyte terabytes', 'tb'],
      ['watt watts', 'w'],
      ['kw kilowatt kilowatts', 'kw'],
      ['kwh', 'kwh'],
      ['horsepower hp', 'hp'],
      ['calorie calories kcal', 'kcal'],
      ['percent percentage', '%'],
      ['usd dollar dollars bucks', 'usd'],
      ['eur euro euros', 'eur'],
      ['gbp sterling', 'gbp'],
      ['jpy yen', 'jpy'],
      ['cad', 'cad'],
      ['aud', 'aud'],
      ['chf franc francs', 'chf'],
      ['cny yuan renminbi rmb', 'cny'],
      ['inr rupee rupees', 'inr'],
      ['btc', 'btc'],
      ['acre acres', 'acre'],
      ['hectare hectares', 'ha'],
      ['volt volts', 'v'],
      ['amp amps ampere amperes', 'a'],
      ['mbps', 'mbps'],
      ['gbps', 'gbps'],
      ['ghz', 'ghz'],
      ['mhz', 'mhz'],
    ] as const
  ).flatMap(([names, unit]) => words(names).map((n) => [n, unit] as [string, string])),
);

export const UNITS_AFTER_NUMBER: ReadonlyMap<string, string> = new Map(
  (
    [
      ['m', 'm'],
      ['g', 'g'],
      ['l', 'l'],
      ['k', 'thousand'],
      ['c', '°c'],
      ['f', '°f'],
      ['s sec secs second seconds', 's'],
      ['min mins minute minutes', 'min'],
      ['h hr hrs hour hours', 'h'],
      ['day days', 'day'],
      ['week weeks', 'week'],
      ['month months', 'month'],
      ['year years yr yrs', 'year'],
      ['degree degrees', 'deg'],
      ['x', 'x'],
      ['bedroom bedrooms', 'bedroom'],
      ['people person persons', 'people'],
      ['servings serving', 'serving'],
    ] as const
  ).flatMap(([names, unit]) => words(names).map((n) => [n, unit] as [string, string])),
);

/** Time units count as units without a number when asked about ("how many seconds ..."). */
export const HOW_MANY_UNITS: ReadonlyMap<string, string> = new Map(
  (
    [
      ['second seconds', 's'],
      ['minute minutes', 'min'],
      ['hour hours', 'h'],
      ['day days', 'day'],
      ['week weeks', 'week'],
      ['month months', 'month'],
      ['year years', 'year'],
    ] as const
  ).flatMap(([names, unit]) => words(names).map((n) => [n, unit] as [string, string])),
);

/** Alternative names of the same entity (compared after lower-casing). */
export const ENTITY_ALIASES: readonly (readonly [string, string])[] = [
  ['united states of america', 'usa'],
  ['united states', 'usa'],
  ['u.s.a.', 'usa'],
  ['u.s.', 'usa'],
  ['us', 'usa'],
  ['america', 'usa'],
  ['united kingdom', 'uk'],
  ['great britain', 'uk'],
  ['britain', 'uk'],
  ['u.k.', 'uk'],
  ['england', 'england'],
  ['new york city', 'nyc'],
  ['new york', 'nyc'],
  ['ny', 'nyc'],
  ['los angeles', 'la'],
  ['san francisco', 'sf'],
  ['washington dc', 'dc'],
  ['washington d.c.', 'dc'],
  ['js', 'javascript'],
  ['ts', 'typescript'],
  ['py', 'python'],
  ['golang', 'go'],
  ['node.js', 'node'],
  ['nodejs', 'node'],
  ['react.js', 'react'],
  ['reactjs', 'react'],
  ['vue.js', 'vue'],
  ['vuejs', 'vue'],
  ['postgres', 'postgresql'],
  ['k8s', 'kubernetes'],
  ['mac', 'macos'],
  ['osx', 'macos'],
  ['os x', 'macos'],
  ['mac os', 'macos'],
  ['american express', 'amex'],
  ['world war ii', 'ww2'],
  ['world war 2', 'ww2'],
  ['wwii', 'ww2'],
  ['second world war', 'ww2'],
  ['world war i', 'ww1'],
  ['world war 1', 'ww1'],
  ['wwi', 'ww1'],
  ['first world war', 'ww1'],
];

/**
 * Known names, matched lower-case anywhere in a question (capitalized words are entities anyway):
 * countries, large cities, US states, languages, and the software and companies people ask about.
 */
export const GAZETTEER = set(`
  afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan bahamas bahrain
  bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil brunei bulgaria burundi
  cambodia cameroon canada chile china colombia comoros congo croatia cuba cyprus czechia czech denmark
  djibouti dominica ecuador egypt eritrea estonia eswatini ethiopia fiji finland france gabon gambia georgia
  germany ghana greece grenada guatemala guyana haiti honduras hungary iceland india indonesia iran iraq
  ireland israel italy jamaica japan jordan kazakhstan kenya kiribati kosovo kuwait kyrgyzstan laos latvia
  lebanon lesotho liberia libya liechtenstein lithuania luxembourg madagascar malawi malaysia maldives mali malta
  mauritania mauritius mexico micronesia moldova monaco mongolia montenegro morocco mozambique myanmar namibia
  nauru nepal netherlands holland nicaragua nigeria norway oman pakistan palau palestine panama paraguay peru
  philippines poland portugal qatar romania russia rwanda samoa senegal serbia seychelles singapore slovakia
  slovenia somalia spain sudan suriname sweden switzerland syria taiwan tajikistan tanzania thailand togo tonga
  tunisia turkmenistan tuvalu uganda ukraine uruguay uzbekistan vanuatu vatican venezuela vietnam yemen
  zambia zimbabwe usa uk england scotland wales europe asia africa antarctica oceania
  paris london berlin madrid rome milan munich lyon marseille bordeaux lisbon porto barcelona valencia seville
  amsterdam brussels vienna prague budapest warsaw krakow athens istanbul moscow dublin edinburgh glasgow
  manchester liverpool copenhagen stockholm oslo helsinki reykjavik zurich geneva venice florence naples
  frankfurt hamburg cologne tokyo kyoto osaka seoul beijing shanghai shenzhen bangkok singapore jakarta bali
  manila hanoi mumbai delhi bangalore goa chennai kolkata dubai doha riyadh cairo casablanca marrakech
  nairobi lagos johannesburg capetown sydney melbourne brisbane perth auckland wellington toronto vancouver
  montreal calgary ottawa chicago boston seattle portland denver austin dallas houston miami atlanta phoenix
  detroit philadelphia nyc la sf dc vegas honolulu lima bogota santiago quito caracas havana
  california texas florida nevada arizona colorado oregon washington alaska hawaii utah ohio michigan
  illinois virginia carolina tennessee kentucky louisiana alabama georgia massachusetts minnesota wisconsin
  english spanish french german italian portuguese chinese mandarin cantonese japanese korean arabic hindi
  russian dutch swedish greek turkish polish hebrew
  python javascript typescript java kotlin swift rust ruby php perl scala haskell elixir erlang clojure
  golang c# c++ f# lua dart julia matlab fortran cobol bash powershell sql html css
  react vue angular svelte node deno django laravel nextjs
  git mercurial svn npm yarn pnpm pip conda docker kubernetes terraform ansible linux ubuntu debian fedora
  windows macos ios android chrome firefox safari powerpoint gmail slack trello
  jira postgresql mysql sqlite mongodb redis kafka elasticsearch pandas polars numpy
  tensorflow pytorch aws azure gcp vim emacs vscode
  apple microsoft google amazon facebook tesla ford toyota netflix spotify uber lyft airbnb paypal
  mastercard amex costco walmart ikea nike adidas samsung sony intel nvidia amd ibm
  oracle openai anthropic bitcoin ethereum dogecoin iphone ipad airpods macbook playstation
  xbox nintendo marriott hilton hyatt ryanair easyjet lufthansa emirates
`);
