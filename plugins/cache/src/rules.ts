/**
 * The smart policy's default rules. Each is a list of plain (non-global) regular expressions so that
 * an app can extend one: `rules: { personalInfo: [...defaultRules.personalInfo, /\bpatient id\b/i] }`.
 * They err on the side of not caching: a false positive costs one upstream call, a false negative
 * could serve one person's answer to another.
 */

export interface KindRule {
  kind: string;
  pattern: RegExp;
}

export interface SmartRules {
  /** Any match in any system, developer, user or tool message: not cached (smart mode). */
  personalInfo: readonly RegExp[];
  /**
   * Any match in a user message: time-sensitive. Exact keying skips it; context keying caches it
   * under a time bucket (and the `current` TTL).
   */
  timeReferences: readonly RegExp[];
  /** A tool (offered, or called earlier in the conversation) whose snake_cased name matches reads live data: not cached. */
  liveTools: readonly RegExp[];
  /** First match on the last user message (lower-cased, contractions expanded) names its kind; else `default`. */
  kinds: readonly KindRule[];
}

const MONTH =
  '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';

export const defaultRules: SmartRules = Object.freeze({
  personalInfo: Object.freeze([
    // e-mail address (one character before the @ is enough to detect one, and avoids backtracking)
    /[\w.+-]@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/i,
    // phone numbers: international (+33 6 12 34 56 78, 0044 20 7946 0958), North American, European 0x xx xx xx xx
    /(?:\+|\b00)\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4}\b/,
    /(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b/,
    /\b0\d(?:[\s.-]?\d{2}){4}\b/,
    // card-like numbers (13-19 digits, spaced or dashed), social security numbers, IBANs, IPv4
    /\b(?:\d[ -]?){12,18}\d\b/,
    /\b\d{3}-\d{2}-\d{4}\b/,
    /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/,
    /\b(?:\d{1,3}\.){3}\d{1,3}\b/,
    // the user talking about their own records
    /\b(?:my|our) (?:account|accounts|order|orders|subscription|password|balance|invoice|invoices|bill|billing|card|credit card|address|email|e-mail|phone|phone number|profile|booking|reservation|ticket|payment|payments|refund|username|user name|plan|salary|tax|taxes|loan|mortgage|insurance|policy|diagnosis|prescription|medical|test results|bank)\b/i,
    /\bmy name is\b|\bi am \d{1,3} years old\b|\bi'm \d{1,3} years old\b|\bi live (?:in|at)\b/i,
  ]),
  timeReferences: Object.freeze([
    /\b(?:now|today|tonight|tomorrow|yesterday|latest|current|currently|recent|recently|nowadays|upcoming|this (?:morning|afternoon|evening|week|weekend|month|year)|next (?:week|weekend|month|year)|last (?:night|week|weekend|month|year)|right now|at the moment|so far)\b/i,
    /\bwhat (?:day|date|time|year) is it\b/i,
    /\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b/i,
    /\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}\/\d{1,2}(?:\/\d{2,4})?\b/,
    new RegExp(`\\b${MONTH}\\.? \\d{1,2}(?:st|nd|rd|th)?\\b|\\b\\d{1,2}(?:st|nd|rd|th)? (?:of )?${MONTH}\\b`, 'i'),
  ]),
  liveTools: Object.freeze([
    /^(?:get_current|get_latest|get_live|get_now|search|fetch|lookup|browse|web|query_live)(?:_|$)/,
    /_now$/,
    /(?:^|_)(?:current|latest|live|realtime|weather|forecast|stock|stocks|price|prices|quote|quotes|news|traffic|exchange_rate|time|clock)(?:_|$)/,
  ]),
  kinds: Object.freeze([
    {
      kind: 'current',
      pattern:
        /\b(?:weather|forecast|temperature (?:in|outside)|stocks?|share price|price of|exchange rate|news|headlines?|scores?|traffic|open now|opening hours)\b/,
    },
    {
      kind: 'support',
      pattern:
        /\b(?:error|errors|not working|does not work|broken|crash|crashes|crashed|crashing|cannot|unable to|fails|failed|failing|fix|troubleshoot|reset|install|uninstall|upgrade|refund|cancel|log ?in|sign ?in|password|support|help me)\b/,
    },
    {
      kind: 'factual',
      pattern:
        /^(?:what (?:is|are|was|were|does|do)|who (?:is|was|were)|define|definition of|explain|how (?:to|do|does|can|is|are)|why (?:is|are|do|does)|meaning of|tell me about)\b/,
    },
  ]),
});

/** Default TTL by kind, ms. */
export const DEFAULT_TTL_BY_KIND: Readonly<Record<string, number>> = Object.freeze({
  current: 5 * 60_000,
  support: 60 * 60_000,
  factual: 24 * 60 * 60_000,
  default: 4 * 60 * 60_000,
});

/** `getCurrentWeather` → `get_current_weather`, so that one set of patterns covers both styles. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-\s.]+/g, '_')
    .toLowerCase();
}

/** A rule's copy without the `g`/`y` flags, whose `lastIndex` state would make `test()` flaky. */
export function statelessRegExp(re: RegExp): RegExp {
  return re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re;
}
