// The stack's functions (serverless.yml declares each under the same name and `role:`) and what
// each one does with AWS. infra/iam.ts turns that into the function's own role: a function holds
// only what it calls, so notify, which reads the stream and its secrets, can neither update a
// service nor pass a role. What each function calls was read from the code and is checked on
// every run of the sandbox, which authorizes each call against the caller's role.

export type Capability =
  /** Render, register and roll out (shared/deploy/deploy.ts), which reads alarms and images first. */
  | "deploy"
  /** Stop a service deployment, or roll a service back to its previous task definition. */
  | "rollBack"
  /** Read the configured builds (their ref, status and exported variables). */
  | "readBuilds"
  /** Read notification URLs and signing secrets (shared/notify/secrets.ts). */
  | "readSecrets"
  /** Be invoked by the records table's stream: Lambda polls it with the function's role. */
  | "readStream";

export interface StackFunction {
  name: string;
  /** The logical id of its role in the template. */
  role: string;
  capabilities: Capability[];
}

const fn = (name: string, capabilities: Capability[]): StackFunction => ({
  name,
  role: `${name
    .split("-")
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("")}Role`,
  capabilities,
});

/** Every function also writes records, writes its own logs and parks its failures. */
export const FUNCTIONS: readonly StackFunction[] = [
  fn("on-image-pushed", ["deploy"]),
  // A failed build rolls back what its image's push started; a successful one deploys it.
  fn("on-build-finished", ["deploy", "rollBack", "readBuilds"]),
  fn("on-deployment-changed", []),
  fn("on-alarm", ["rollBack"]),
  // Deadlines and stuck deployments roll back; pushes left half-done are resumed; a push whose
  // build has sent no event is checked with CodeBuild.
  fn("sweep", ["deploy", "rollBack", "readBuilds"]),
  fn("notify", ["readStream", "readSecrets"]),
  fn("promote", ["readStream", "deploy"]),
  fn("on-approval", ["deploy"]),
];
