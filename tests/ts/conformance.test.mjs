// The emulator against both official TypeScript SDK versions: model management, predictions
// and errors, with zero protocol warnings logged by the client or by the emulator.

import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";

import { GEMMA, NOMIC, QWEN, SDKS, recordingLogger, startEmulator } from "./harness.mjs";

const FULL_REPLY = "Echo: hello there. This is the LM Studio emulator speaking.";
const TIMEOUT = { timeout: 15_000 };

/** A catalog whose only model always fails to load, for the load-failure error. */
function failingCatalog() {
  const path = join(mkdtempSync(join(tmpdir(), "lmsprofiles-ts-")), "catalog.yaml");
  writeFileSync(
    path,
    [
      "models:",
      "  - modelKey: broken/model",
      "    type: llm",
      "    format: gguf",
      "    displayName: Broken",
      "    path: broken/model-GGUF/model.gguf",
      "    sizeBytes: 1000",
      "    maxContextLength: 4096",
      "    faults:",
      "      loadError: insufficient memory",
      "",
    ].join("\n"),
  );
  return path;
}

async function collect(prediction) {
  const fragments = [];
  for await (const fragment of prediction) {
    fragments.push(fragment.content);
  }
  return { fragments, result: await prediction };
}

for (const { version, LMStudioClient } of SDKS) {
  describe(`@lmstudio/sdk ${version}`, () => {
    let emulator;
    let log;
    let client;

    before(async () => {
      emulator = await startEmulator();
    }, TIMEOUT);

    after(async () => {
      const stderr = await emulator.stop();
      assert.equal(stderr, "", "the emulator logged protocol warnings");
    }, TIMEOUT);

    beforeEach(async () => {
      log = recordingLogger();
      client = new LMStudioClient({ baseUrl: `ws://${emulator.host}`, logger: log.logger });
      for (const namespace of [client.llm, client.embedding]) {
        for (const model of await namespace.listLoaded()) {
          await namespace.unload(model.identifier);
        }
      }
    }, TIMEOUT);

    afterEach(async () => {
      await client[Symbol.asyncDispose]();
      assert.deepEqual(log.problems(), [], "the client logged protocol warnings");
      assert.equal(emulator.stderr(), "", "the emulator logged protocol warnings");
    }, TIMEOUT);

    test("lists downloaded models", TIMEOUT, async () => {
      const models = await client.system.listDownloadedModels();
      assert.deepEqual(models.map(m => [m.modelKey, m.type]), [
        [QWEN, "llm"],
        ["qwen/qwen2.5-coder-14b", "llm"],
        [GEMMA, "llm"],
        [NOMIC, "embedding"],
      ]);
      const gemma = models.find(m => m.modelKey === GEMMA);
      assert.equal(gemma.maxContextLength, 32768);
      assert.equal(gemma.format, "gguf");
      if (version === "2.0.0") {
        assert.equal(gemma.publisher, "lmstudio-community");
        assert.equal(gemma.indexedModelIdentifier, gemma.path);
        assert.equal(gemma.deviceIdentifier, null);
      }
    });

    test("lists loaded models", TIMEOUT, async () => {
      assert.deepEqual(await client.llm.listLoaded(), []);
      await client.llm.load(GEMMA);
      await client.embedding.load(NOMIC);
      assert.deepEqual((await client.llm.listLoaded()).map(m => m.identifier), [GEMMA]);
      assert.deepEqual((await client.embedding.listLoaded()).map(m => m.identifier), [NOMIC]);
    });

    test("model() loads on first use, then returns the loaded instance", TIMEOUT, async () => {
      const first = await client.llm.model(GEMMA, { verbose: false });
      const again = await client.llm.model(GEMMA, { verbose: false });
      assert.equal(first.identifier, GEMMA);
      assert.equal(again.identifier, GEMMA);
      assert.equal(again.instanceReference, first.instanceReference);
      assert.equal((await client.llm.listLoaded()).length, 1);
    });

    test("model() with a config loads with it", TIMEOUT, async () => {
      const model = await client.llm.model(QWEN, { verbose: false, config: { contextLength: 4096 } });
      assert.equal(await model.getContextLength(), 4096);
      assert.equal((await model.getModelInfo()).contextLength, 4096);
    });

    test("load with identifier, config and ttl", TIMEOUT, async () => {
      const progress = [];
      const model = await client.llm.load(GEMMA, {
        identifier: "tiny",
        ttl: 600,
        config: { contextLength: 4096, flashAttention: true },
        onProgress: value => progress.push(value),
      });
      assert.equal(model.identifier, "tiny");
      assert.deepEqual(progress, [0.25, 0.5, 0.75, 1]);
      const info = await model.getModelInfo();
      assert.equal(info.identifier, "tiny");
      assert.equal(info.modelKey, GEMMA);
      assert.equal(info.contextLength, 4096);
      assert.equal(info.maxContextLength, 32768);
      if (version === "2.0.0") {
        assert.equal(info.ttlMs, 600_000);
        const config = await model.getLoadConfig();
        assert.equal(config.contextLength, 4096);
        assert.equal(config.flashAttention, true);
        assert.equal(config.autoFit, false);
      } else {
        const fields = new Map((await model.getLoadConfig()).fields.map(f => [f.key, f.value]));
        assert.equal(fields.get("llm.load.contextLength"), 4096);
        assert.equal(fields.get("llm.load.llama.flashAttention"), true);
      }
    });

    test("get model info of an unloaded handle", TIMEOUT, async () => {
      const model = await client.llm.load(GEMMA, { verbose: false });
      await model.unload();
      assert.equal(await client.llm.createDynamicHandle(GEMMA).getModelInfo(), undefined);
      await assert.rejects(model.getModelInfo(), /already been unloaded/);
    });

    test("respond streams fragments", TIMEOUT, async () => {
      const model = await client.llm.model(GEMMA, { verbose: false });
      const { fragments, result } = await collect(model.respond("hello there", { maxTokens: 3 }));
      assert.deepEqual(fragments, ["Echo: ", "hello ", "there. "]);
      assert.equal(result.content, "Echo: hello there. ");
      assert.equal(result.stats.stopReason, "maxPredictedTokensReached");
      assert.equal(result.stats.predictedTokensCount, 3);
      assert.equal(result.modelInfo.identifier, GEMMA);
    });

    test("respond with a config", TIMEOUT, async () => {
      const model = await client.llm.model(GEMMA, { verbose: false });
      const prediction = model.respond("hello there", {
        temperature: 0.2,
        stopStrings: ["LM Studio"],
      });
      const { fragments, result } = await collect(prediction);
      assert.equal(fragments.join(""), "Echo: hello there. This is the ");
      assert.equal(result.content, "Echo: hello there. This is the ");
      assert.equal(result.stats.stopReason, "stopStringFound");
      const config = new Map(result.predictionConfig.fields.map(f => [f.key, f.value]));
      assert.equal(config.get("llm.prediction.temperature"), 0.2);
    });

    test("respond without a limit gives the whole reply", TIMEOUT, async () => {
      const model = await client.llm.model(GEMMA, { verbose: false });
      const { result } = await collect(model.respond("hello there"));
      assert.equal(result.content, FULL_REPLY);
      assert.equal(result.stats.stopReason, "eosFound");
    });

    test("complete streams fragments", TIMEOUT, async () => {
      const model = await client.llm.model(GEMMA, { verbose: false });
      const { fragments, result } = await collect(model.complete("hello there", { maxTokens: 2 }));
      assert.deepEqual(fragments, ["Echo: ", "hello "]);
      assert.equal(result.content, "Echo: hello ");
      assert.equal(result.stats.stopReason, "maxPredictedTokensReached");
    });

    test("embed", TIMEOUT, async () => {
      const model = await client.embedding.model(NOMIC, { verbose: false });
      const { embedding } = await model.embed("some text");
      assert.equal(embedding.length, 768);
      assert.deepEqual((await model.embed("some text")).embedding, embedding);
    });

    test("unload by handle and by identifier", TIMEOUT, async () => {
      const first = await client.llm.load(GEMMA, { verbose: false });
      const second = await client.llm.load(GEMMA, { verbose: false });
      assert.equal(second.identifier, `${GEMMA}:2`);
      await first.unload();
      assert.deepEqual((await client.llm.listLoaded()).map(m => m.identifier), [`${GEMMA}:2`]);
      await client.llm.unload(`${GEMMA}:2`);
      assert.deepEqual(await client.llm.listLoaded(), []);
    });

    test("unknown model", TIMEOUT, async () => {
      const notFound = /Cannot find a model with path "no\/such-model"/;
      await assert.rejects(client.llm.model("no/such-model", { verbose: false }), notFound);
      await assert.rejects(client.llm.load("no/such-model", { verbose: false }), notFound);
      await assert.rejects(client.llm.model(), /No loaded model satisfies all requirements/);
      await assert.rejects(client.llm.unload("nope"), /Cannot find a model with identifier "nope"/);
    });

    test("identifier taken", TIMEOUT, async () => {
      await client.llm.load(GEMMA, { identifier: "taken", verbose: false });
      await assert.rejects(
        client.llm.load(QWEN, { identifier: "taken", verbose: false }),
        /identifier 'taken' is already loaded/,
      );
      assert.deepEqual((await client.llm.listLoaded()).map(m => m.identifier), ["taken"]);
    });

    test("wrong domain", TIMEOUT, async () => {
      await assert.rejects(client.llm.load(NOMIC, { verbose: false }), /Model has wrong domain/);
    });
  });

  describe(`@lmstudio/sdk ${version}: load failure`, () => {
    let emulator;

    before(async () => {
      emulator = await startEmulator({ catalog: failingCatalog() });
    }, TIMEOUT);

    after(async () => {
      assert.equal(await emulator.stop(), "", "the emulator logged protocol warnings");
    }, TIMEOUT);

    test("a failing load is an error on load() and model()", TIMEOUT, async () => {
      const log = recordingLogger();
      const client = new LMStudioClient({ baseUrl: `ws://${emulator.host}`, logger: log.logger });
      try {
        await assert.rejects(client.llm.load("broken/model", { verbose: false }), /insufficient memory/);
        await assert.rejects(client.llm.model("broken/model", { verbose: false }), /insufficient memory/);
        assert.deepEqual(await client.llm.listLoaded(), []);
      } finally {
        await client[Symbol.asyncDispose]();
      }
      assert.deepEqual(log.problems(), []);
    });
  });
}

describe("the warning checks themselves", () => {
  test("a client's warning shows in its log and on the emulator's stderr", TIMEOUT, async () => {
    const emulator = await startEmulator();
    const log = recordingLogger();
    const { LMStudioClient } = SDKS.find(sdk => sdk.version === "2.0.0");
    const client = new LMStudioClient({ baseUrl: `ws://${emulator.host}`, logger: log.logger });
    try {
      await client.llm.listLoaded();
      client.llm.port.communicationWarning("provoked on purpose");
      await client.llm.listLoaded(); // answered after the warning was handled
    } finally {
      await client[Symbol.asyncDispose]();
    }
    const stderr = await emulator.stop();
    assert.equal(stderr, "protocol warning from a client on /llm: provoked on purpose\n");
    assert.equal(log.problems().length, 1);
    assert.match(log.problems()[0].text, /provoked on purpose/);
  });
});
