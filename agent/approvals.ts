import { readFileSync } from 'node:fs';
import * as z from 'zod';
import type { ProcessInfo } from '../protocol/index.js';
import { AgentError } from './errors.js';

/** What a person (or a rule) may answer. 'allow' = allow while connected. */
export const ANSWERS = ['allow-once', 'allow', 'deny'] as const;
export type Answer = (typeof ANSWERS)[number];
export type PolicyDecision = Answer | 'ask';

export interface ApprovalSubject {
  server: string;
  provider: string;
  process: ProcessInfo;
  /** How long a lease granted now would live (the agent's TTL, capped by the daemon's). */
  leaseTtlMs?: number;
  /** A subscription login, said in words: "Claude Pro/Max subscription, lent only to Claude Code". */
  subscription?: string;
}

const Rule = z.object({
  provider: z.string().optional(),
  server: z.string().optional(),
  command: z.string().optional(),
  decision: z.enum(['allow', 'allow-once', 'deny', 'ask']),
});
const RulesFile = z.array(Rule).max(1000);
type Rule = z.infer<typeof Rule>;

interface CompiledRule {
  provider?: RegExp;
  server?: RegExp;
  command?: RegExp;
  decision: PolicyDecision;
}

/** `*` matches any run of characters, everything else is literal; the whole string must match. */
export function starGlobToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** How lease requests are decided before anyone is asked (`--approve`). */
export class ApprovalPolicy {
  private constructor(
    readonly source: string,
    private readonly rules: CompiledRule[],
  ) {}

  static fixed(decision: PolicyDecision): ApprovalPolicy {
    return new ApprovalPolicy(decision, [{ decision }]);
  }

  static fromRules(rules: Rule[], source = 'rules'): ApprovalPolicy {
    return new ApprovalPolicy(
      source,
      rules.map((r) => ({
        ...(r.provider !== undefined ? { provider: starGlobToRegExp(r.provider) } : {}),
        ...(r.server !== undefined ? { server: starGlobToRegExp(r.server) } : {}),
        ...(r.command !== undefined ? { command: starGlobToRegExp(r.command) } : {}),
        decision: r.decision,
      })),
    );
  }

  /** `ask|allow|allow-once|deny`, or a path to a JSON rules file. */
  static parse(spec: string, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): ApprovalPolicy {
    if (spec === 'ask' || spec === 'allow' || spec === 'allow-once' || spec === 'deny') return ApprovalPolicy.fixed(spec);
    let text: string;
    try {
      text = readFile(spec);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new AgentError('bad-policy', `--approve ${spec}: not ask|allow|allow-once|deny, and cannot read it as a rules file (${code})`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new AgentError('bad-policy', `rules file ${spec} is not valid JSON`);
    }
    const parsed = RulesFile.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AgentError('bad-policy', `rules file ${spec}: ${issue?.path.join('.') || 'rules'}: ${issue?.message ?? 'invalid'}`);
    }
    return ApprovalPolicy.fromRules(parsed.data, spec);
  }

  /** First matching rule wins; nothing matches → ask. */
  decide(subject: ApprovalSubject): PolicyDecision {
    const command = subject.process.cmdline.join(' ');
    for (const rule of this.rules) {
      if (rule.provider && !rule.provider.test(subject.provider)) continue;
      if (rule.server && !rule.server.test(subject.server)) continue;
      if (rule.command && !rule.command.test(command)) continue;
      return rule.decision;
    }
    return 'ask';
  }
}
