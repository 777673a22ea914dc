import { ErrorCodes } from '../src/bus/errors.js'

/** docs/errors.md, generated from the catalogue so the two cannot drift (a test compares them). */
export function renderErrorsDoc(): string {
  const rows = Object.entries(ErrorCodes).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`)
  return [
    '# Error codes',
    '',
    'Every error Mailroom throws is a `MailroomError` with one of these stable codes (`error.code`).',
    'Generated from `src/bus/errors.ts` by `npm run docs:errors`; do not edit by hand.',
    '',
    '| code | meaning |',
    '| --- | --- |',
    ...rows,
    '',
  ].join('\n')
}
