// The pipeline configuration after loading and validation: plain data that every function
// reads. The YAML shape (what people write) lives in schema.ts; this is what code sees.
import type { TaskDefinitionTemplate } from "../render/placeholders";

export type AlarmFiringPolicy = "refuse" | "warn";
export type TimeoutPolicy = "report" | "rollback";
export type StrategyType = "ROLLING" | "BLUE_GREEN" | "LINEAR" | "CANARY";

export interface Strategy {
  type: StrategyType;
  bakeTimeMinutes?: number;
  linear?: { stepPercent: number; stepBakeTimeMinutes: number };
  canary?: { canaryPercent: number; canaryBakeTimeMinutes: number };
  lifecycleHooks?: { hookTargetArn: string; roleArn: string; lifecycleStages: string[] }[];
}

/** A reference to a secret value that is read at run time, never stored in the config. */
export type SecretRef = { store: "ssm"; name: string } | { store: "secretsmanager"; id: string };

/** `kmsKey`: the customer-managed key the destination's parameters or secrets are encrypted with. */
export type Destination =
  | { name: string; type: "slack"; url: SecretRef; kmsKey?: string }
  | { name: string; type: "webhook"; url: SecretRef; secret: SecretRef; kmsKey?: string };

export interface Target {
  app: string;
  env: string;
  region: string;
  cluster: string;
  service: string;
  /** `region/cluster/service`: how records, locks and messages name a target. */
  key: string;
  templateFile: string;
  template: TaskDefinitionTemplate;
  /** App, environment and target variables merged, target winning. Values keep their YAML type. */
  variables: Record<string, string | number | boolean>;
}

export interface Promotion {
  from: string;
  approval: "auto" | "manual";
  expiresAfterSeconds: number;
}

export interface Environment {
  app: string;
  name: string;
  region: string;
  targets: Target[];
  alarms: string[];
  whenAlarmFiring: AlarmFiringPolicy;
  watchSeconds: number;
  deadlineSeconds: number;
  onTimeout: TimeoutPolicy;
  strategy: Strategy;
  /** Present when the environment is fed by promotion instead of by pushes. */
  promote?: Promotion;
  notify: string[];
}

export interface App {
  name: string;
  repository: string;
  /** Tags that deploy; null means every tagged push. */
  tags: RegExp | null;
  buildProject?: string;
  /** The branches whose builds may deploy (the build path's check; default main). */
  branches: string[];
  environments: Environment[];
}

export interface PipelineConfig {
  /** Absolute path of the YAML file it came from: messages name it. */
  file: string;
  apps: App[];
  destinations: Record<string, Destination>;
}
