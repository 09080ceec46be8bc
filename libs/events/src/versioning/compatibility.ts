type Schema = Record<string, unknown>;

const CONSTRAINTS = ['const', 'enum', 'pattern', 'format', 'anyOf', 'oneOf'] as const;

/**
 * Lists the ways `current` breaks readers or writers of `released`: a field removed or retyped,
 * a new required field, a changed constraint, closed extra fields. Empty when compatible.
 * Adding an optional field, a description or a looser bound is compatible.
 */
export function breakingChanges(released: Schema, current: Schema, path = ''): string[] {
  const at = path || '(root)';
  const changes: string[] = [];
  if (released.type !== current.type) {
    changes.push(`${at} retyped from ${fmt(released.type)} to ${fmt(current.type)}`);
    return changes;
  }
  for (const constraint of CONSTRAINTS) {
    if (fmt(released[constraint]) !== fmt(current[constraint])) {
      changes.push(
        `${at} ${constraint} changed from ${fmt(released[constraint])} to ${fmt(current[constraint])}`,
      );
    }
  }
  if (released.additionalProperties !== false && current.additionalProperties === false) {
    changes.push(`${at} no longer allows extra fields`);
  }
  const releasedProps = (released.properties ?? {}) as Record<string, Schema>;
  const currentProps = (current.properties ?? {}) as Record<string, Schema>;
  for (const [name, schema] of Object.entries(releasedProps)) {
    const next = currentProps[name];
    if (!next) changes.push(`${path}/${name} removed`);
    else changes.push(...breakingChanges(schema, next, `${path}/${name}`));
  }
  const releasedRequired = new Set((released.required ?? []) as string[]);
  for (const name of (current.required ?? []) as string[]) {
    if (!releasedRequired.has(name)) changes.push(`${path}/${name} is newly required`);
  }
  if (released.items && current.items) {
    changes.push(
      ...breakingChanges(released.items as Schema, current.items as Schema, `${path}/items`),
    );
  }
  return changes;
}

function fmt(value: unknown): string {
  return value === undefined ? 'none' : JSON.stringify(value);
}
