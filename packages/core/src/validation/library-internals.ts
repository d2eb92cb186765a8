/**
 * The parts of class-validator 0.15 and class-transformer 0.5 that their public entry points do not
 * export, in one place so a version bump has one file to check (the validation tests fail loudly if
 * any of these moved):
 * - `ValidationExecutor`, because `validate()` always returns a Promise and `validateSync()` silently
 *   skips any constraint that returns one; running the executor ourselves gives class-validator's
 *   exact result, synchronously whenever no constraint actually went async;
 * - `ValidationUtils.replaceMessageSpecialTokens`, so compiled messages are class-validator's own;
 * - class-transformer's metadata storage, including the private maps that are the only way to list
 *   every `@Type`, `@Transform`, `@Expose` and `@Exclude` a class has.
 * The internal files are CommonJS without type declarations next to them, hence `require` typed with
 * the declarations each package ships under `types/`.
 */
import type { TypeMetadata } from 'class-transformer';

/* eslint-disable @typescript-eslint/no-require-imports */
const executorModule = require('class-validator/cjs/validation/ValidationExecutor') as typeof import('class-validator/types/validation/ValidationExecutor');
const utilsModule = require('class-validator/cjs/validation/ValidationUtils') as typeof import('class-validator/types/validation/ValidationUtils');
const storageModule = require('class-transformer/cjs/storage') as typeof import('class-transformer/types/storage');
/* eslint-enable @typescript-eslint/no-require-imports */

export const ValidationExecutor = executorModule.ValidationExecutor;
export const replaceMessageSpecialTokens = utilsModule.ValidationUtils.replaceMessageSpecialTokens.bind(utilsModule.ValidationUtils);
export const transformerStorage = storageModule.defaultMetadataStorage;

/** What class-transformer recorded for one class (own decorators only, not its ancestors'). */
export interface TransformerDecorators {
  /** Property names with an `@Type`. */
  typed: readonly string[];
  /** Property names with an `@Transform`. */
  transformed: readonly string[];
  /** Whether the class or one of its properties has `@Expose` or `@Exclude`. */
  exposesOrExcludes: boolean;
}

type StorageMaps = Record<'_typeMetadatas' | '_transformMetadatas' | '_exposeMetadatas' | '_excludeMetadatas', unknown>;

/**
 * Lists a class's own class-transformer decorators, or returns undefined when the storage does not
 * have the shape of 0.5.x (the caller then treats the class as not understood).
 */
export function transformerDecoratorsOf(target: Function): TransformerDecorators | undefined {
  const maps = transformerStorage as unknown as StorageMaps;
  const typed = propertyNames(maps._typeMetadatas, target);
  const transformed = propertyNames(maps._transformMetadatas, target);
  const exposed = propertyNames(maps._exposeMetadatas, target);
  const excluded = propertyNames(maps._excludeMetadatas, target);
  if (!typed || !transformed || !exposed || !excluded) return undefined;
  return { typed, transformed, exposesOrExcludes: exposed.length + excluded.length > 0 };
}

function propertyNames(map: unknown, target: Function): string[] | undefined {
  if (!(map instanceof Map)) return undefined;
  const byProperty: unknown = map.get(target);
  if (byProperty === undefined) return [];
  if (!(byProperty instanceof Map)) return undefined;
  // Class-level @Expose/@Exclude are stored under the property name `undefined`; keep them visible.
  return [...byProperty.keys()].map((key) => String(key));
}

/** The `@Type` class-transformer applies to a property of `target` (its own, else an ancestor's). */
export function typeMetadataOf(target: Function, propertyName: string): TypeMetadata | undefined {
  return transformerStorage.findTypeMetadata(target, propertyName) as TypeMetadata | undefined;
}
