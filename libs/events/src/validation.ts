import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `exports.default`; under nodenext the default import is the module.
type AddFormats = (ajv: Ajv, formats: string[]) => Ajv;
const addFormats = (addFormatsModule as unknown as { default: AddFormats }).default;

/** One Ajv instance for the contract: schemas compiled once, validation on the hot path is cheap. */
export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
  addFormats(ajv, ['uuid', 'email', 'date-time', 'uri']);
  return ajv;
}

/** Renders Ajv errors as one line: `/items/0/sku must match pattern ...`. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors?.length) return 'invalid';
  return errors
    .map((error) => `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}`)
    .join('; ');
}

export type { ValidateFunction };
