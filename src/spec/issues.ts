/** The issues compile collects, each with its path, message and the value found (shown briefly). */
import { show, type SpecIssue } from "./SpecError.ts"

export class Issues {
  readonly list: Array<SpecIssue> = []
  add(path: string, message: string, actual?: unknown) {
    this.list.push(actual === undefined ? { path, message } : { path, message, actual: show(actual) })
  }
}
