/**
 * What a piece of output means, so renderers stay free of colour codes: the
 * CLI maps tones to styles once (src/cli/output.ts), honouring NO_COLOR.
 */
export type Tone = "good" | "bad" | "warn" | "muted" | "heading";

export type Paint = (tone: Tone, text: string) => string;

export const plainPaint: Paint = (_tone, text) => text;
