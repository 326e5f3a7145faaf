import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}

/** Env values that are empty strings count as unset, so `FOO=` in a .env file falls back to the default. */
function withoutEmptyValues(env: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') result[key] = value.trim();
  }
  return result;
}

function describe(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const name = `${prefix}${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) => `${name}: ${message}`);
    return [...own, ...describe(error.children ?? [], `${name}.`)];
  });
}

/**
 * Validates environment variables against a class whose property names are the variable names, so every
 * message names the variable the operator has to fix.
 */
export function validateEnv<T extends object>(schema: ClassConstructor<T>, env: Record<string, string | undefined>): T {
  const instance = plainToInstance(schema, withoutEmptyValues(env), { exposeDefaultValues: true });
  const errors = validateSync(instance, { whitelist: false, forbidUnknownValues: true });
  if (errors.length > 0) throw new ConfigurationError(describe(errors));
  return instance;
}
