import { MailroomError } from './bus/index.js'

/** The shop's own codes (the bus's and the console's are in their catalogues); docs/errors.md lists them all. */
export const ShopErrorCodes = {
  MAILROOM_ERR_SHOP_MODULE_INVALID: 'An entry of src/shop-modules.ts is not a module made with defineModule({ name, handlers }).',
} as const

export type ShopErrorCode = keyof typeof ShopErrorCodes

/** An entry of the composition root's list that is not a module: the shop refuses to start. */
export class ShopModuleInvalidError extends MailroomError<ShopErrorCode> {
  constructor(readonly entry: string) {
    super('MAILROOM_ERR_SHOP_MODULE_INVALID', `src/shop-modules.ts exports '${entry}', which is not a module: export only defineModule({ name, handlers }) results there.`)
  }
}
