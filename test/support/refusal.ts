import { carriedCode } from '../../remote/testing/refusal-code.js';

/** A refusal as a tool sees it: status, the code in the x-tether-error header and the body (they must agree), and the sentence. */
export interface SeenRefusal {
  status: number;
  code: string | undefined;
  message: string;
}

export async function refusalOf(res: Response): Promise<SeenRefusal> {
  const text = await res.text();
  let message = '';
  try {
    message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? '';
  } catch {
    message = text;
  }
  return { status: res.status, code: carriedCode(res.headers, text), message };
}
