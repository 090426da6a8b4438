// docs/fields.md against `@lmstudio/sdk` 2.0.0: the tables list exactly the fields the installed
// package declares, and every field reaches the emulator under the KV key the table gives (or,
// where the table says the SDK drops it, does not) and reads back as sent.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { GEMMA, NOMIC, REPO, SDKS, recordingLogger, startEmulator } from "./harness.mjs";

const MLX = "mlx-community/qwen3-4b";
const TIMEOUT = { timeout: 60_000 };

/** One value per field (a whole config where a field needs a companion field). */
const LOAD_SAMPLES = {
  autoFit: { autoFit: false },
  "gpu.ratio": { gpu: { ratio: 0.5 } },
  "gpu.numCpuExpertLayersRatio": { gpu: { numCpuExpertLayersRatio: 0.25 } },
  "gpu.mainGpu": { gpu: { mainGpu: 1 } },
  "gpu.splitStrategy": { gpu: { splitStrategy: "favorMainGpu" } },
  "gpu.disabledGpus": { gpu: { disabledGpus: [0] } },
  maxParallelPredictions: { maxParallelPredictions: 8 },
  useUnifiedKvCache: { useUnifiedKvCache: false },
  gpuStrictVramCap: { gpuStrictVramCap: true },
  offloadKVCacheToGpu: { offloadKVCacheToGpu: false },
  contextLength: { contextLength: 4096 },
  promptTemplate: { promptTemplate: { type: "jinja", jinjaPromptTemplate: { template: "{{ x }}" } } },
  ropeFrequencyBase: { ropeFrequencyBase: 10000 },
  ropeFrequencyScale: { ropeFrequencyScale: 0.5 },
  evalBatchSize: { evalBatchSize: 256 },
  physicalBatchSize: { physicalBatchSize: 128 },
  flashAttention: { flashAttention: true },
  contextCheckpoints: { contextCheckpoints: 4 },
  reasoningBudgetMessage: { reasoningBudgetMessage: "Time to answer." },
  speculativeDraftMtp: { speculativeDraftMtp: true },
  speculativeDraftSimple: { speculativeDraftSimple: true, speculativeDraftModel: "qwen/qwen3-0.6b" },
  speculativeDraftModel: { speculativeDraftSimple: true, speculativeDraftModel: "qwen/qwen3-0.6b" },
  speculativeDraftMaxTokens: { speculativeDraftMaxTokens: 8 },
  speculativeDraftMinTokens: { speculativeDraftMinTokens: 2 },
  speculativeDraftMinContinueProbability: { speculativeDraftMinContinueProbability: 0.5 },
  keepModelInMemory: { keepModelInMemory: false },
  seed: { seed: 7 },
  useFp16ForKVCache: { useFp16ForKVCache: false },
  tryMmap: { tryMmap: false },
  tryDirectIO: { tryDirectIO: true },
  llamaCppArgumentsOverride: {
    llamaCppArgumentsOverride: {
      enabled: true,
      disabledParameters: ["--no-warmup"],
      overrideParameters: [{ key: "--threads", value: "2" }],
      excludeAllConfig: false,
    },
  },
  numExperts: { numExperts: 4 },
  llamaKCacheQuantizationType: { llamaKCacheQuantizationType: "q8_0" },
  llamaVCacheQuantizationType: { llamaVCacheQuantizationType: "q4_0" },
  mlxDiskCache: { mlxDiskCache: false },
  mlxKvCacheQuantization: {
    mlxKvCacheQuantization: { enabled: true, bits: 4, groupSize: 64, quantizedStart: 100 },
  },
};

const EMBEDDING_SAMPLES = Object.fromEntries(
  [
    "gpu.ratio",
    "gpu.numCpuExpertLayersRatio",
    "gpu.mainGpu",
    "gpu.splitStrategy",
    "gpu.disabledGpus",
    "contextLength",
    "ropeFrequencyBase",
    "ropeFrequencyScale",
    "keepModelInMemory",
    "tryMmap",
  ].map(name => [name, name === "contextLength" ? { contextLength: 1024 } : LOAD_SAMPLES[name]]),
);

const tool = { type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } };
const PREDICTION_SAMPLES = {
  maxTokens: { maxTokens: 5 },
  reasoningBudget: { reasoningBudget: 100 },
  temperature: { temperature: 0.3 },
  stopStrings: { stopStrings: ["\n\n"] },
  toolCallStopStrings: { toolCallStopStrings: ["</tool>"] },
  contextOverflowPolicy: { contextOverflowPolicy: "rollingWindow" },
  structured: { structured: { type: "json", jsonSchema: { type: "object", properties: {} } } },
  rawTools: { rawTools: { type: "toolArray", tools: [tool] } },
  toolChoice: { toolChoice: { type: "generic", mode: "required" } },
  toolNaming: { toolNaming: "snakeCase" },
  topKSampling: { topKSampling: 20 },
  repeatPenalty: { repeatPenalty: 1.3 },
  presencePenalty: { presencePenalty: 0.5 },
  minPSampling: { minPSampling: 0.1 },
  topPSampling: { topPSampling: 0.9 },
  xtcProbability: { xtcProbability: 0.4 },
  xtcThreshold: { xtcThreshold: 0.2 },
  logProbs: { logProbs: 3 },
  cpuThreads: { cpuThreads: 2 },
  enableThinking: { enableThinking: false },
  promptTemplate: {
    promptTemplate: { type: "jinja", stopStrings: [], jinjaPromptTemplate: { template: "{{ x }}" } },
  },
  draftModel: { draftModel: "qwen/qwen3-0.6b" },
  speculativeDecodingNumDraftTokensExact: { speculativeDecodingNumDraftTokensExact: 3 },
  speculativeDecodingMinDraftLengthToConsider: { speculativeDecodingMinDraftLengthToConsider: 2 },
  speculativeDecodingMinContinueDraftingProbability: {
    speculativeDecodingMinContinueDraftingProbability: 0.6,
  },
  reasoningParsing: { reasoningParsing: { enabled: false, startString: "<r>", endString: "</r>" } },
  userMaxImageDimensionPixels: { userMaxImageDimensionPixels: 512 },
  ignoreModelPreferredMaxImageDimension: { ignoreModelPreferredMaxImageDimension: true },
  raw: {
    raw: { fields: [{ key: "llm.prediction.llama.frequencyPenalty", value: { checked: true, value: 0.3 } }] },
  },
};

/**
 * The rows of the docs/fields.md table under the heading that names `typeName`:
 * `{ field, kvKeys, checkbox, ts, python, profiles }`.
 */
function tableRows(typeName) {
  const lines = readFileSync(join(REPO, "docs", "fields.md"), "utf-8").split("\n");
  const heading = lines.findIndex(line => line.startsWith("## ") && line.includes(`(\`${typeName}\`)`));
  assert.notEqual(heading, -1, `docs/fields.md has no table for ${typeName}`);
  const prefix = typeName === "LLMPredictionConfigInput" ? "llm.prediction." : "";
  const rows = [];
  for (const line of lines.slice(heading + 1)) {
    if (line.startsWith("## ")) {
      break;
    }
    const cells = line.split("|").slice(1, -1).map(cell => cell.trim());
    if (cells.length !== 5 || !cells[0].startsWith("`")) {
      continue;
    }
    const [field, kv, ts, python, profiles] = cells;
    rows.push({
      field: field.replaceAll("`", ""),
      kvKeys: [...kv.matchAll(/`([^`]+)`/g)].map(match => prefix + match[1]),
      checkbox: kv.includes("(checkbox)"),
      ts,
      python,
      profiles,
    });
  }
  return rows;
}

/** The property names of an interface or object type in `@lmstudio/sdk` 2.0.0's type declarations. */
function declaredFields(typeName) {
  const declarations = join(dirname(fileURLToPath(import.meta.resolve("sdk20"))), "index.d.ts");
  const lines = readFileSync(declarations, "utf-8").split(/\r?\n/);
  const start = lines.findIndex(line =>
    new RegExp(`^export declare (interface ${typeName}\\b.*\\{|type ${typeName} = \\{)$`).test(line),
  );
  assert.notEqual(start, -1, `${typeName} is not declared in @lmstudio/sdk 2.0.0`);
  const names = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith("}")) {
      break;
    }
    const match = /^ {4}(\w+)\??:/.exec(line);
    if (match !== null) {
      names.push(match[1]);
    }
  }
  return names.flatMap(name => (name === "gpu" ? declaredFields("GPUSetting").map(sub => `gpu.${sub}`) : [name]));
}

const kvMap = config => new Map(config.fields.map(field => [field.key, field.value]));

/** The KV keys whose value in `after` differs from `before`. */
function changedKeys(before, after) {
  return [...after.keys()].filter(key => JSON.stringify(before.get(key)) !== JSON.stringify(after.get(key)));
}

/** The value of `sample`'s field `name` (dotted for nested fields). */
function sampleValue(sample, name) {
  return name.split(".").reduce((value, part) => value[part], sample);
}

/** The table's claims about one field, checked against what the emulator received. */
function checkRow(row, sample, before, after) {
  const changed = changedKeys(before, after);
  if (row.ts === "drops") {
    for (const key of row.kvKeys) {
      assert.ok(!changed.includes(key), `${row.field}: the SDK was expected to drop it, but ${key} changed`);
    }
    return;
  }
  assert.equal(row.ts, "sends", `${row.field}: the table says ${row.ts}`);
  const keys = row.field === "raw" ? sample.raw.fields.map(field => field.key) : row.kvKeys;
  for (const key of keys) {
    assert.ok(changed.includes(key), `${row.field}: ${key} did not reach the emulator (changed: ${changed})`);
  }
  if (keys.length === 1 && !row.field.includes(".") && row.field !== "raw") {
    const value = sample[row.field];
    assert.deepEqual(after.get(keys[0]), row.checkbox ? { checked: true, value } : value, row.field);
  }
}

/** A catalog of the models these tests load: a GGUF LLM, an MLX LLM and an embedding model. */
function catalog() {
  const path = join(mkdtempSync(join(tmpdir(), "lmsprofiles-ts-")), "catalog.yaml");
  const model = (key, type, format, path, extra = []) => [
    `  - modelKey: ${key}`,
    `    type: ${type}`,
    `    format: ${format}`,
    `    displayName: ${key}`,
    `    path: ${path}`,
    "    sizeBytes: 1000000",
    "    maxContextLength: 32768",
    ...extra,
  ];
  writeFileSync(
    path,
    [
      "models:",
      ...model(GEMMA, "llm", "gguf", "lmstudio-community/gemma-3-1b-it-GGUF/gemma-3-1b-it-Q4_K_M.gguf"),
      ...model(MLX, "llm", "safetensors", "mlx-community/Qwen3-4B-4bit"),
      ...model(NOMIC, "embedding", "gguf", "nomic-ai/nomic-embed-text-v1.5-GGUF/nomic-embed-text-v1.5.Q4_K_M.gguf"),
      "",
    ].join("\n"),
  );
  return path;
}

describe("docs/fields.md against @lmstudio/sdk 2.0.0", () => {
  const { LMStudioClient } = SDKS.find(sdk => sdk.version === "2.0.0");
  let emulator;
  let log;
  let client;

  before(async () => {
    emulator = await startEmulator({ catalog: catalog() });
    log = recordingLogger();
    client = new LMStudioClient({ baseUrl: `ws://${emulator.host}`, logger: log.logger });
  }, TIMEOUT);

  after(async () => {
    await client[Symbol.asyncDispose]();
    assert.deepEqual(log.problems(), [], "the client logged protocol warnings");
    assert.equal(await emulator.stop(), "", "the emulator logged protocol warnings");
  }, TIMEOUT);

  for (const [typeName, samples] of [
    ["LLMLoadModelConfig", LOAD_SAMPLES],
    ["EmbeddingLoadModelConfig", EMBEDDING_SAMPLES],
    ["LLMPredictionConfigInput", PREDICTION_SAMPLES],
  ]) {
    test(`the ${typeName} table lists the fields the package declares`, () => {
      const declared = declaredFields(typeName);
      assert.deepEqual(tableRows(typeName).map(row => row.field).sort(), [...declared].sort());
      assert.deepEqual(Object.keys(samples).sort(), [...declared].sort());
    });
  }

  async function loadedConfigs(namespace, key, config) {
    const model = await namespace.load(key, { verbose: false, config });
    try {
      return { kv: kvMap(await model.getLoadKVConfig()), readBack: await model.getLoadConfig() };
    } finally {
      await model.unload();
    }
  }

  for (const [typeName, samples, domain] of [
    ["LLMLoadModelConfig", LOAD_SAMPLES, "llm"],
    ["EmbeddingLoadModelConfig", EMBEDDING_SAMPLES, "embedding"],
  ]) {
    test(`${typeName}: each field reaches the emulator as the table says and reads back`, TIMEOUT, async () => {
      const namespace = domain === "llm" ? client.llm : client.embedding;
      const baselines = new Map();
      for (const row of tableRows(typeName)) {
        const key = domain === "embedding" ? NOMIC : row.field.startsWith("mlx") ? MLX : GEMMA;
        if (!baselines.has(key)) {
          baselines.set(key, (await loadedConfigs(namespace, key, {})).kv);
        }
        const sample = samples[row.field];
        const { kv, readBack } = await loadedConfigs(namespace, key, sample);
        checkRow(row, sample, baselines.get(key), kv);
        if (row.ts === "sends") {
          assert.deepEqual(sampleValue(readBack, row.field), sampleValue(sample, row.field), row.field);
        }
      }
    });
  }

  test("LLMPredictionConfigInput: each field reaches the emulator as the table says", TIMEOUT, async () => {
    const model = await client.llm.load(GEMMA, { verbose: false });
    const before = kvMap((await model.respond("hi")).predictionConfig);
    for (const row of tableRows("LLMPredictionConfigInput")) {
      const sample = PREDICTION_SAMPLES[row.field];
      const result = await model.respond("hi", sample);
      checkRow(row, sample, before, kvMap(result.predictionConfig));
    }
    await model.unload();
  });
});
