import type { ModelName } from '../experiment';
import type { ModelDef } from './graph';
import { resnet20, resnet20a, resnet56, resnet56a } from './resnet';
import { tiny } from './tiny';
import { vgg16 } from './vgg';

export const MODELS: Record<ModelName, () => ModelDef> = { tiny: () => tiny(), resnet20, resnet56, resnet20a, resnet56a, vgg16: () => vgg16() };

export function buildModelDef(name: ModelName): ModelDef {
  return MODELS[name]();
}

export * from './graph';
