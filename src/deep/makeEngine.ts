/** An engine by name: `onnx` (the fast one, docs/deep.md) or `ts` (the reference). */
import type { DqnConfig } from "./config.ts"
import { type Engine, type EngineName, TsEngine } from "./engine.ts"
import type { NetShape, Params } from "./network.ts"
import { OnnxEngine } from "./onnxEngine.ts"

export const ENGINES: ReadonlyArray<EngineName> = ["onnx", "ts"]

export const makeEngine = (name: EngineName, shape: NetShape, config: DqnConfig, initial: Params): Promise<Engine> =>
  name === "onnx" ? OnnxEngine.create(shape, config, initial) : Promise.resolve(new TsEngine(shape, config, initial))
