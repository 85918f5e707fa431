import type { FastifyInstance } from 'fastify';
import { requestActor } from '../auth/request-actor.js';
import type { Logger } from '../../shared/logger.js';
import { archivePlan, createPlan, listPlans, updatePlan, type PlanInput } from '../../appliance/plans/plans.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Plan } from '../../appliance/domain/model.js';
import { ADMIN } from '../api/auth-schemas.js';
import { field, type FormBody } from '../pages/guest-forms.js';
import { formRoute, pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';

const MB = 1_000_000;

/** An optional whole number from a form; '' means "none". */
function optionalInt(body: FormBody, name: string, scale = 1): number | null {
  const raw = field(body, name, 20).trim();
  if (raw === '') return null;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TurnpikeError('TP_ERR_VALIDATION', `${name}: a whole number ≥ 0`, { field: name });
  }
  return value * scale;
}

/** The plan form's fields as a plan input; the domain's `assertPlan` checks the rest. */
function planInputOf(body: FormBody): Partial<PlanInput> & { name: string } {
  return {
    name: field(body, 'name', 80),
    description: field(body, 'description', 500),
    priceMinor: optionalInt(body, 'priceMinor') ?? 0,
    currency: field(body, 'currency', 3).toUpperCase() || 'EUR',
    durationSeconds: optionalInt(body, 'durationMinutes', 60),
    quotaBytes: optionalInt(body, 'quotaMb', MB),
    bandwidthDownKbps: optionalInt(body, 'downKbps'),
    bandwidthUpKbps: optionalInt(body, 'upKbps'),
    maxDevices: optionalInt(body, 'maxDevices') ?? 1,
    visible: body.visible === 'on' || body.visible === 'yes',
  };
}

/** The form's values for an existing plan (or the defaults for a new one). */
function formOf(plan: Plan | null): Record<string, string | boolean> {
  const text = (value: number | null, scale = 1) => (value === null ? '' : String(Math.round(value / scale)));
  return {
    name: plan?.name ?? '',
    description: plan?.description ?? '',
    priceMinor: text(plan?.priceMinor ?? 0),
    currency: plan?.currency ?? 'EUR',
    durationMinutes: text(plan ? plan.durationSeconds : 3600, 60),
    quotaMb: text(plan?.quotaBytes ?? null, MB),
    downKbps: text(plan?.bandwidthDownKbps ?? null),
    upKbps: text(plan?.bandwidthUpKbps ?? null),
    maxDevices: text(plan?.maxDevices ?? 1),
    visible: plan?.visible ?? true,
  };
}

/** Plans: list, create, edit, retire (admin). Plans are never deleted: subscriptions point at them. */
export function plansPages(app: FastifyInstance, deps: AdminPagesDeps & { logger: Logger }, replies: AdminReplies) {
  const { store, clock } = deps;

  function listPage(
    request: Parameters<AdminReplies['page']>[0],
    reply: Parameters<AdminReplies['page']>[1],
    notice: string | null,
  ) {
    const t = replies.t(request, reply);
    return replies.page(request, reply, 'plans', t.plans, { plans: listPlans(store.db) }, { notice });
  }

  app.get('/admin/plans', pageRoute(ADMIN), async (request, reply) => listPage(request, reply, null));

  app.get('/admin/plans/new', pageRoute(ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    return replies.page(request, reply, 'plan-form', t.newPlan, { action: '/admin/plans', form: formOf(null) });
  });

  app.post('/admin/plans', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const body = request.body as FormBody;
    try {
      await createPlan(store, clock, planInputOf(body), requestActor(request));
      return listPage(request, reply, t.planCreated);
    } catch (err) {
      const error = replies.failureText(request, reply, err);
      const form = { ...formOf(null), ...Object.fromEntries(Object.entries(body).filter(([k]) => k !== '_csrf')) };
      return replies.page(request, reply, 'plan-form', t.newPlan, { action: '/admin/plans', form }, { error });
    }
  });

  function planOf(id: string): Plan {
    const plan = store.db.plans[id];
    if (!plan || plan.archived) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'No such plan');
    return plan;
  }

  app.get('/admin/plans/:id', pageRoute(ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const plan = planOf((request.params as { id: string }).id);
    return replies.page(request, reply, 'plan-form', t.editPlan, {
      action: `/admin/plans/${plan.id}`,
      form: formOf(plan),
      retire: `/admin/plans/${plan.id}/retire`,
    });
  });

  app.post('/admin/plans/:id', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const id = (request.params as { id: string }).id;
    try {
      await updatePlan(store, clock, id, planInputOf(request.body as FormBody), requestActor(request));
      return listPage(request, reply, t.saved);
    } catch (err) {
      return replies.fail(request, reply, err);
    }
  });

  app.post('/admin/plans/:id/retire', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const id = (request.params as { id: string }).id;
    try {
      await archivePlan(store, clock, id, requestActor(request));
      return listPage(request, reply, t.retired);
    } catch (err) {
      return replies.fail(request, reply, err);
    }
  });
}
