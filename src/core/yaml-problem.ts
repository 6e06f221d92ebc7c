// A problem the YAML reader found, where it found it (shared by the parser and its go-yaml syntax rules).
import type { ConfigPath, SourcePosition } from '../report.js';

export interface YamlProblem {
  message: string;
  position: SourcePosition;
  path?: ConfigPath;
}
