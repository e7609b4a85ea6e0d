// SDK v3 types every output field as optional; the API reference marks some as always returned.
// A response without one is broken, and saying so beats carrying `undefined` further.

/** A field the AWS API always returns (named in `what`, e.g. 'CreateLaunchTemplateVersion LaunchTemplateVersion.VersionNumber'). */
export function returned<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`AWS returned no ${what}, which the API reference says is always present`);
  return value;
}
