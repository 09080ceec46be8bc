import { type Static, type TObject } from '@sinclair/typebox';

/**
 * One version of one event type: its stable wire name, its integer version and its payload
 * schema. The identity of an event between services is `(type, version)`, never a class name.
 */
export interface EventDefinition<
  TType extends string = string,
  TVersion extends number = number,
  TSchema extends TObject = TObject,
> {
  readonly type: TType;
  readonly version: TVersion;
  readonly schema: TSchema;
  /** Path of the checked-in JSON Schema, relative to `libs/events`. */
  readonly schemaFile: string;
}

/** The payload type of an event definition. */
export type EventData<D extends EventDefinition> = Static<D['schema']>;

/** Declares one version of an event type. */
export function defineEvent<TType extends string, TVersion extends number, TSchema extends TObject>(
  type: TType,
  version: TVersion,
  schema: TSchema,
): EventDefinition<TType, TVersion, TSchema> {
  return { type, version, schema, schemaFile: `schemas/${type}.v${version}.json` };
}
