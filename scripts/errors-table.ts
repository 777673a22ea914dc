import { ErrorCodes } from '../src/bus/errors.js'
import { ShopErrorCodes } from '../src/shop-errors.js'
import { WebErrorCodes } from '../src/web/errors.js'

const table = (codes: Record<string, string>) => ['| code | meaning |', '| --- | --- |', ...Object.entries(codes).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`)]

/** docs/errors.md, generated from the catalogues so they cannot drift (a test compares them). */
export function renderErrorsDoc(): string {
  return [
    '# Error codes',
    '',
    'Every error Mailroom throws is a `MailroomError` with one of these stable codes (`error.code`), one code',
    'for each cause. Generated from the catalogues by `npm run docs:errors`; do not edit by hand.',
    '',
    '## The bus (the `mailroom` package)',
    '',
    'From `src/bus/errors.ts`. A wrong option or argument of any kind is also an `InvalidOptionError`.',
    '',
    ...table(ErrorCodes),
    '',
    '## The console',
    '',
    'From `src/web/errors.ts`: the JSON bodies of the console\'s HTTP errors carry these.',
    '',
    ...table(WebErrorCodes),
    '',
    '## The shop',
    '',
    'From `src/shop-errors.ts`.',
    '',
    ...table(ShopErrorCodes),
    '',
  ].join('\n')
}
