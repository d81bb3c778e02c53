/** Bodies of `GET /v1/models` in the OpenAI and Anthropic shapes. */

const CREATED = 1_700_000_000;

export function openaiModelList(names: readonly string[]): string {
  return JSON.stringify({
    object: 'list',
    data: names.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'flowgate-mock' })),
  });
}

export function anthropicModelList(names: readonly string[]): string {
  const created = new Date(CREATED * 1000).toISOString();
  return JSON.stringify({
    data: names.map((id) => ({ type: 'model', id, display_name: id, created_at: created })),
    has_more: false,
    first_id: names[0] ?? null,
    last_id: names[names.length - 1] ?? null,
  });
}
