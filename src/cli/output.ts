import { styleText } from "node:util";
import type { Writable } from "node:stream";
import type { Paint, Tone } from "../ui/tone.ts";

type Style = Parameters<typeof styleText>[0];

const TONE_STYLES: Readonly<Record<Tone, Style>> = { good: "green", bad: "red", warn: "yellow", muted: "dim", heading: "bold" };

/**
 * Where commands write. Results go to stdout (as JSON with --json), progress
 * and warnings to stderr, so `cspace plan --json | jq` always sees clean data.
 * Colour follows NO_COLOR, FORCE_COLOR and whether the stream is a terminal.
 */
export class Output {
  readonly json: boolean;
  readonly #stdout: Writable;
  readonly #stderr: Writable;

  constructor(options: { json: boolean; stdout?: Writable; stderr?: Writable }) {
    this.json = options.json;
    this.#stdout = options.stdout ?? process.stdout;
    this.#stderr = options.stderr ?? process.stderr;
  }

  /** A command's result as data: one JSON document on stdout. */
  data(value: unknown): void {
    this.#stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A line of a command's human-readable result. */
  line(text = ""): void {
    this.#stdout.write(`${text}\n`);
  }

  /** Progress and information for people; never part of the result. */
  info(text: string): void {
    this.#stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.#stderr.write(`${this.paint("yellow", "warning:", this.#stderr)} ${text}\n`);
  }

  error(text: string): void {
    this.#stderr.write(`${this.paint("red", "error:", this.#stderr)} ${text}\n`);
  }

  /** Styles text for stdout; plain when colour is off. */
  style(style: Style, text: string): string {
    return this.paint(style, text, this.#stdout);
  }

  /** Colours by meaning, for the renderers in src/ui. */
  readonly tone: Paint = (tone, text) => this.style(TONE_STYLES[tone], text);

  private paint(style: Style, text: string, stream: Writable): string {
    return styleText(style, text, { stream });
  }
}
