export { type ExplainedItem, type Explanation, explainInput } from "./explain.ts";
