import type {
  CommonTemplateData,
  NudgeData,
  RebaseData,
  RetryData,
  ReviewData,
  TemplateDataFor,
  TemplateIssue,
  TemplateKind,
} from "./data.ts";

/**
 * The variables each template kind may use, as data the validator walks.
 * A shape is `"value"` (text, a number, a flag), a one-element tuple (a list
 * of that shape) or an object of named shapes. Each catalogue is checked
 * against its data type by {@link FieldsFor}: a field missing on either side
 * is a compile error, so the two cannot drift apart.
 */

export type Shape = "value" | readonly [Shape] | Fields;
export interface Fields {
  readonly [name: string]: Shape;
}

type ShapeFor<T> = [NonNullable<T>] extends [readonly (infer Item)[]]
  ? readonly [ShapeFor<Item>]
  : [NonNullable<T>] extends [string | number | boolean]
    ? "value"
    : FieldsFor<NonNullable<T>>;

/** Every field of T, optional ones included, each with its shape. */
type FieldsFor<T> = { readonly [K in keyof T]-?: ShapeFor<T[K]> };

const issue = {
  number: "value",
  title: "value",
  body: "value",
  url: "value",
  labels: ["value"],
} as const satisfies FieldsFor<TemplateIssue>;

const common = {
  issue,
  branch: "value",
  baseBranch: "value",
  featureBranch: "value",
  dependencies: [{ number: "value", title: "value", state: "value", branch: "value" }],
  verifyCommand: "value",
  e2eCommand: "value",
  repo: "value",
  instance: "value",
  context: "value",
  baseSha: "value",
  baseCommits: [{ sha: "value", title: "value" }],
  earlierWork: { commits: [{ sha: "value", title: "value" }], restacked: "value" },
} as const satisfies FieldsFor<CommonTemplateData>;

const review = { pullRequestUrl: "value", diffSummary: "value" } as const satisfies FieldsFor<Omit<ReviewData, keyof CommonTemplateData>>;
const rebase = { onto: "value", from: "value", paths: ["value"] } as const satisfies FieldsFor<Omit<RebaseData, keyof CommonTemplateData>>;
const retry = {
  attempt: "value",
  maxAttempts: "value",
  failure: { kind: "value", summary: "value", command: "value", output: "value" },
} as const satisfies FieldsFor<Omit<RetryData, keyof CommonTemplateData>>;

const nudge = { minutesSilent: "value", lastEvent: "value" } as const satisfies FieldsFor<Omit<NudgeData, keyof CommonTemplateData>>;

const catalogues: { readonly [K in TemplateKind]: FieldsFor<TemplateDataFor<K>> } = {
  implementer: common,
  review: { ...common, ...review },
  rebase: { ...common, ...rebase },
  retry: { ...common, ...retry },
  nudge: { ...common, ...nudge },
};

export function catalogueFor(kind: TemplateKind): Fields {
  return catalogues[kind];
}

export function isList(shape: Shape): shape is readonly [Shape] {
  return Array.isArray(shape);
}

export function isFields(shape: Shape): shape is Fields {
  return shape !== "value" && !Array.isArray(shape);
}

/**
 * Every name usable at one level, objects expanded (`issue.title`) but not
 * lists (`dependencies`, walked with `#each`): what an error lists as valid.
 */
export function variableNames(fields: Fields, prefix = ""): string[] {
  return Object.entries(fields).flatMap(([name, shape]) =>
    isFields(shape) ? variableNames(shape, `${prefix}${name}.`) : [`${prefix}${name}`],
  );
}

/**
 * The data as the template sees it: only the catalogue's fields (nothing else
 * the caller's objects carry reaches a template), and every absent optional
 * field present as null, so strict mode never throws on one.
 */
export function completeData(kind: TemplateKind, data: TemplateDataFor<TemplateKind>): Record<string, unknown> {
  return completeFields(catalogueFor(kind), data);
}

function completeFields(fields: Fields, value: object): Record<string, unknown> {
  const source = value as Readonly<Record<string, unknown>>;
  return Object.fromEntries(Object.entries(fields).map(([name, shape]) => [name, complete(shape, Object.hasOwn(source, name) ? source[name] : undefined)]));
}

function complete(shape: Shape, value: unknown): unknown {
  if (value === undefined || value === null) return isList(shape) ? [] : null;
  if (isList(shape)) return Array.isArray(value) ? value.map((item: unknown) => complete(shape[0], item)) : value;
  if (isFields(shape)) return typeof value === "object" ? completeFields(shape, value) : value;
  return value;
}
