import { ValidateIf } from 'class-validator';

/**
 * For an optional field that has no "none" to set: left out, it is not checked; sent — `null` included — it must
 * pass its rules (IsOptional would take `null` for left out, and a change of nothing would go through).
 */
export const UnlessAbsent = () => ValidateIf((_, value) => value !== undefined);
