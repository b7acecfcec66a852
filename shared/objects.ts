/**
 * The same object without its undefined fields, so stored records and messages carry only facts
 * that exist. Typed as `T`: an absent field reads as undefined, as it did.
 */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
