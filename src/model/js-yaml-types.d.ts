import type { Type } from 'js-yaml';

// js-yaml 4 exports its built-in tag types (`types.merge` and the others) at run time;
// @types/js-yaml does not declare them.
declare module 'js-yaml' {
  export const types: { readonly merge: Type };
}
