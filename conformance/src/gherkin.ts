/**
 * Loading Gherkin feature files into runnable scenarios, and choosing which scenarios run by tag.
 *
 * A "scenario" here is a compiled pickle: one per Scenario, and one per Examples row of a Scenario
 * Outline, with Background steps prepended and `<placeholders>` already substituted. Its tags are
 * the union of the Feature, Rule, Scenario and Examples tags, so a tag on an `Examples:` block
 * applies to exactly the rows of that block.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AstBuilder, compile, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import {
  IdGenerator,
  type Background,
  type GherkinDocument,
  type Pickle,
  type Rule,
  type Scenario as AstScenario,
} from '@cucumber/messages';

export interface ScenarioStep {
  /** The keyword as written in the feature file ("Given ", "And ", ...), for messages only. */
  keyword: string;
  /** Step text with outline placeholders substituted. */
  text: string;
  /** Rows of cells of an attached data table, if any. */
  dataTable?: string[][];
  /** Content of an attached doc string, if any. */
  docString?: string;
}

export interface ExampleRow {
  /** Name of the `Examples:` block ("" if unnamed). */
  block: string;
  /** Column header → cell value. */
  values: Record<string, string>;
}

export interface Scenario {
  /** Path of the feature file. */
  uri: string;
  feature: string;
  /** Scenario name (placeholders substituted). */
  name: string;
  /** Name plus example block and values; unique within its feature file. */
  title: string;
  /** Feature + Rule + Scenario + Examples tags, with the leading "@". */
  tags: string[];
  steps: ScenarioStep[];
  /** Set when the scenario comes from a Scenario Outline row. */
  example?: ExampleRow;
}

/** Parses Gherkin source text into scenarios; `uri` only labels them. */
export function parseFeature(source: string, uri: string): Scenario[] {
  const newId = IdGenerator.incrementing();
  const parser = new Parser(new AstBuilder(newId), new GherkinClassicTokenMatcher());
  let document: GherkinDocument;
  try {
    document = parser.parse(source);
  } catch (error) {
    throw new Error(`cannot parse ${uri}: ${(error as Error).message}`, { cause: error });
  }
  const index = indexDocument(document);
  const pickles = compile(document, uri, newId);
  const scenarios = pickles.map((pickle) => toScenario(pickle, uri, document, index));
  return disambiguateTitles(scenarios);
}

/** Reads and parses one .feature file. */
export function loadFeature(path: string): Scenario[] {
  return parseFeature(readFileSync(path, 'utf8'), path);
}

/** The .feature files directly inside `dir`, sorted by name. Throws if there are none. */
export function featureFiles(dir: string): string[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.feature'))
    .sort()
    .map((name) => join(dir, name));
  if (files.length === 0) throw new Error(`no .feature files in ${dir}`);
  return files;
}

// ---------------------------------------------------------------------------------------------
// Tag selection

export interface TagSelection {
  /** Tag (with "@") → reason. A scenario carrying any of these tags is excluded with that reason. */
  exclude?: Record<string, string>;
  /** If given, a scenario must carry at least one of these tags to run. */
  includeAny?: string[];
}

export type Verdict = { run: true } | { run: false; tag?: string; reason: string };

/**
 * Builds a predicate over a scenario's tags. Exclusion wins over inclusion. Because pickle tags
 * already contain the tags of the `Examples:` block a row came from, an Examples-level tag
 * excludes exactly that block's rows and leaves sibling blocks of the same outline alone.
 */
export function tagFilter(selection: TagSelection): (tags: readonly string[]) => Verdict {
  const exclude = Object.entries(selection.exclude ?? {});
  const includeAny = selection.includeAny;
  return (tags) => {
    for (const [tag, reason] of exclude) {
      if (tags.includes(tag)) return { run: false, tag, reason };
    }
    if (includeAny && !includeAny.some((tag) => tags.includes(tag))) {
      return { run: false, reason: `carries none of ${includeAny.join(', ')}` };
    }
    return { run: true };
  };
}

// ---------------------------------------------------------------------------------------------
// Internals

interface DocumentIndex {
  /** AST step id → keyword. */
  keywords: Map<string, string>;
  /** Examples table row id → row. */
  rows: Map<string, ExampleRow>;
}

/** A child of a Feature or of a Rule (a RuleChild simply never has `rule`). */
type Child = { background?: Background; scenario?: AstScenario; rule?: Rule };

function indexDocument(document: GherkinDocument): DocumentIndex {
  const index: DocumentIndex = { keywords: new Map(), rows: new Map() };
  const visit = (children: readonly Child[]): void => {
    for (const child of children) {
      const container = child.background ?? child.scenario;
      for (const step of container?.steps ?? []) index.keywords.set(step.id, step.keyword);
      for (const examples of child.scenario?.examples ?? []) {
        const header = examples.tableHeader?.cells.map((cell) => cell.value) ?? [];
        for (const row of examples.tableBody) {
          const values: Record<string, string> = {};
          row.cells.forEach((cell, i) => (values[header[i]] = cell.value));
          index.rows.set(row.id, { block: examples.name, values });
        }
      }
      if (child.rule) visit(child.rule.children);
    }
  };
  visit(document.feature?.children ?? []);
  return index;
}

function toScenario(pickle: Pickle, uri: string, document: GherkinDocument, index: DocumentIndex): Scenario {
  // For an outline row, astNodeIds is [scenario id, examples row id].
  const example = pickle.astNodeIds.length > 1 ? index.rows.get(pickle.astNodeIds[1]) : undefined;
  return {
    uri,
    feature: document.feature?.name ?? uri,
    name: pickle.name,
    title: example ? `${pickle.name} ${describeRow(example)}` : pickle.name,
    tags: pickle.tags.map((tag) => tag.name),
    example,
    steps: pickle.steps.map((step) => ({
      keyword: index.keywords.get(step.astNodeIds[0]) ?? '',
      text: step.text,
      dataTable: step.argument?.dataTable?.rows.map((row) => row.cells.map((cell) => cell.value)),
      docString: step.argument?.docString?.content,
    })),
  };
}

function describeRow(row: ExampleRow): string {
  const cells = Object.entries(row.values).map(([column, value]) => `${column}=${value}`);
  return `[${row.block ? `${row.block}: ` : ''}${cells.join(', ')}]`;
}

/** Appends " #2", " #3", ... to repeated titles so every test name in a file is unique. */
function disambiguateTitles(scenarios: Scenario[]): Scenario[] {
  const seen = new Map<string, number>();
  for (const scenario of scenarios) {
    const count = (seen.get(scenario.title) ?? 0) + 1;
    seen.set(scenario.title, count);
    if (count > 1) scenario.title = `${scenario.title} #${count}`;
  }
  return scenarios;
}
