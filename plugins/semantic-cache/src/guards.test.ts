import { ConfigError } from '@flowgate/core';
import { describe, expect, it } from 'vitest';
import { failedGuard, type GuardName, resolveGuards } from './guards.js';
import { analyze } from './text/analyze.js';

const all = resolveGuards(undefined);
/** The guard that refuses serving `cached`'s answer to `asked`, or undefined. */
const guard = (cached: string, asked: string, guards = all) => failedGuard(analyze(asked), analyze(cached), guards);

describe('each guard refuses its near misses and lets paraphrases through', () => {
  const cases: [GuardName, [string, string][], [string, string][]][] = [
    [
      'quote',
      [
        ['What does "carpe diem" mean?', 'What does "carpe noctem" mean?'],
        ["Translate 'good morning' into Spanish", "Translate 'good night' into Spanish"],
        ['What does the error “permission denied” mean?', 'What does the error "connection refused" mean?'],
      ],
      [
        ['What does "carpe diem" mean?', 'Meaning of “carpe diem”?'],
        ["What's the meaning of 'carpe diem'?", "What does 'carpe diem' mean?"],
      ],
    ],
    [
      'number',
      [
        ['What is 15% of 200?', 'What is 15% of 300?'],
        ["What's new in Python 3.12?", "What's new in Python 3.11?"],
        ['Which countries are in the G7?', 'Which countries are in the G20?'],
        ['Who was the first president of the United States?', 'Who was the second president of the United States?'],
        ['How much is a two bedroom apartment?', 'How much is a three bedroom apartment?'],
        ['Population of a city of 300,000 people', 'Population of a city of 3,000 people'],
      ],
      [
        ['What is 15% of 200?', 'Calculate 15 percent of 200'],
        ['What is a 401k?', "What's a 401(k)?"],
        ['Is a population of 300,000 large?', 'Is a population of 300000 large?'],
        ['How many seconds are in an hour?', 'How many seconds in one hour?'],
      ],
    ],
    [
      'unit',
      [
        ['Is 30°C hot?', 'Is 30°F hot?'],
        ['Convert 50 USD to EUR', 'Convert 50 USD to GBP'],
        ['How much is a 20% tip on $85?', 'How much is a 20% tip on 85 euros?'],
        ['How many tablespoons are in a cup?', 'How many teaspoons are in a cup?'],
        ['Convert 100 Fahrenheit to Celsius', 'Convert 100 Celsius to Fahrenheit'],
        ['Convert 100 °F to °C', 'Convert 100 °C to °F'],
        ['What is 5 kg in pounds?', 'What is 5 pounds in kg?'],
        ['How many square feet is 100 square meters?', 'How many square yards is 100 square meters?'],
      ],
      [
        ['Convert 5 kilometers to miles', 'How many miles is 5 km?'],
        ['What is 100 degrees Fahrenheit in Celsius?', 'Convert 100°F to Celsius'],
        ['Convert 100 °F to °C', 'Convert 100 degrees Fahrenheit to Celsius'],
        ['Convert 100 km/h to mph', 'Convert 100 kilometers per hour to mph'],
        ['How many ounces are in a pound?', 'How many ounces in a pound?'],
      ],
    ],
    [
      'negation',
      [
        ['Which foods are safe for dogs?', 'Which foods are not safe for dogs?'],
        ['Why does my code compile?', "Why doesn't my code compile?"],
        ['Can I take ibuprofen with food?', 'Can I take ibuprofen without food?'],
        ['Which fruits have seeds?', 'Which fruits have no seeds?'],
        ['Why does my car start?', "Why won't my car start?"],
        ['Medications to take during pregnancy', 'Medications to never take during pregnancy'],
        ['Is it safe to eat raw eggs?', 'Is it unsafe to eat raw eggs?'],
      ],
      [
        ["Why won't my car start?", 'Why does my car not start?'],
        ["Why doesn't my code compile", 'Why does my code not compile?'],
      ],
    ],
    [
      'date',
      [
        ['Weather in Rome in April', 'Weather in Rome in October'],
        ['Flights to Denver on 2024-03-15', 'Flights to Denver on 2024-03-16'],
        ['Is the office closed on Monday?', 'Is the office closed on Tuesday?'],
        ['Is Disneyland crowded at Christmas?', 'Is Disneyland crowded at Easter?'],
        ['Does it snow in Rome in winter?', 'Does it snow in Rome in summer?'],
        ['What happened on 9/11?', 'What happened on 7/7?'],
        ['Will it rain today?', 'Will it rain tomorrow?'],
      ],
      [
        ['Does it snow in Rome in winter?', 'Does Rome get snow in the winter?'],
        ['Is the office closed on Monday?', 'Is the office closed on mondays?'],
        ['May I bring a guest?', 'Can I bring a guest?'],
      ],
    ],
    [
      'entity',
      [
        ["What's the weather in Paris?", "What's the weather in London?"],
        ['weather in berlin', 'weather in munich'],
        ['How do I sort a list in Python?', 'How do I sort a list in JavaScript?'],
        ['Who painted the Mona Lisa?', 'Who painted the Starry Night?'],
        ['What does the useEffect hook do in React?', 'What does the useState hook do in React?'],
        ['how to learn python fast', 'how to learn rust fast'],
        ['Does the Marriott have free breakfast?', 'Does the Hilton have free breakfast?'],
      ],
      [
        ["What's the weather in Paris?", 'paris weather'],
        ['How much should I tip in the United States?', 'How much do you tip in the US?'],
        ["What's the difference between == and === in JavaScript?", 'Difference between == and === in JS?'],
        ['How do I clear the cache in Chrome?', "How to clear Chrome's cache?"],
        ['How Do I Reset My Password', 'how do i reset my password'],
      ],
    ],
    [
      'direction',
      [
        ['How do I convert a list to a string in Python?', 'How do I convert a string to a list in Python?'],
        ['How do I migrate from MySQL to PostgreSQL?', 'How do I migrate from PostgreSQL to MySQL?'],
      ],
      [['How do I convert a list to a string in Python?', 'Convert a list to a string in Python']],
    ],
    [
      'opposite',
      [
        ['How do I turn on dark mode?', 'How do I turn off dark mode?'],
        ['Should I buy Tesla stock?', 'Should I sell Tesla stock?'],
        ['How do I sort a list in ascending order?', 'How do I sort a list in descending order?'],
        ['How do I upload a file to Google Drive?', 'How do I download a file from Google Drive?'],
      ],
      [['How do I turn on dark mode?', 'How do I enable dark mode?']],
    ],
    [
      'substitution',
      [
        ['How long should I boil an egg?', 'How long should I fry an egg?'],
        ['What is the minimum wage in Canada?', 'What is the average wage in Canada?'],
        ['How do I merge two branches in git?', 'How do I compare two branches in git?'],
      ],
      [
        ['What is the capital of France?', "What's the capital city of France?"],
        ['How do I remove a git branch?', 'How can I delete a branch in git?'],
        ['Is Bali safe for tourists?', 'Is it safe for tourists to visit Bali?'],
      ],
    ],
  ];

  for (const [name, nearMisses, paraphrases] of cases) {
    describe(name, () => {
      it.each(nearMisses)(`refuses "%s" for "%s"`, (cached, asked) => {
        // The named guard is the one that refuses it when it alone is on...
        const only = resolveGuards(Object.fromEntries([...Object.keys(all)].map((g) => [g, g === name])));
        expect(guard(cached, asked, only)).toBe(name);
        // ...and the pair is refused both ways with every guard on.
        expect(guard(cached, asked)).toBeDefined();
        expect(guard(asked, cached)).toBeDefined();
      });
      it.each(paraphrases)(`lets "%s" answer "%s"`, (cached, asked) => {
        expect(guard(cached, asked)).toBeUndefined();
        expect(guard(asked, cached)).toBeUndefined();
      });
      it('can be turned off', () => {
        const [cached, asked] = nearMisses[0]!;
        const without = resolveGuards({ [name]: false });
        expect(guard(cached, asked, without)).not.toBe(name);
      });
    });
  }
});

describe('what a question says', () => {
  it('reads numbers, number words, ordinals and digits inside names', () => {
    expect(analyze('Is a 6 minute egg soft? Top ten of 2024, the 3rd and the first, G7').numbers).toEqual(
      ['10', '1st', '2024', '3rd', '6', '7'].sort(),
    );
    expect(analyze('Monthly payment on a $300,000 loan at 6.5%').numbers).toEqual(['300000', '6.5']);
  });

  it('reads units, and which of them measures the quantity', () => {
    const a = analyze('Convert 100°F to Celsius');
    expect(a.units).toEqual(['°c', '°f']);
    expect(a.measured).toEqual(['°f']);
    expect(analyze('How many miles is 5 km?').measured).toEqual(['km']);
    expect(analyze('a 2 TB drive, 16 GB of RAM and 120 mg of caffeine').units).toEqual(['gb', 'mg', 'tb']);
    // A word unit only counts after a number: "in my words" has no unit; "10 days" does.
    expect(analyze('What happened in 10 days, in my own words?').units).toEqual(['day']);
  });

  it('reads quotes, typographic or not, and leaves apostrophes alone', () => {
    expect(analyze(`What's "Carpe Diem" and 'veni vidi vici' and it's fine`).quotes).toEqual([
      'carpe diem',
      'veni vidi vici',
    ]);
  });

  it('reads named entities: capitalized runs not at a sentence start, all caps, code, known names', () => {
    const a = analyze('Paris weather. Is the Eiffel Tower open? Use useEffect in node.js with the API');
    expect(new Set(a.entities)).toEqual(new Set(['paris', 'eiffel tower', 'useeffect', 'node', 'api']));
  });

  it('expands contractions into negations', () => {
    expect(analyze("I can't and won't, it isn't and doesnt").negations).toBe(4);
    expect(analyze('I cannot do it without help, never').negations).toBe(3);
  });
});

describe('resolveGuards', () => {
  it('turns every guard on by default and rejects unknown guards or values', () => {
    expect(Object.values(resolveGuards(undefined)).every(Boolean)).toBe(true);
    expect(() => resolveGuards({ colour: false } as never)).toThrow(ConfigError);
    expect(() => resolveGuards({ number: 'no' } as never)).toThrow(/guards.number must be a boolean/);
  });
});
