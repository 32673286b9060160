// Alerts: notification channels (create, edit, test, delete), alert rules (create, edit,
// delete) and the delivery log. Forms check what they can before sending and show the
// API's own message, on the field it names, when it refuses. On CineVault's database, a
// notice about CineVault's own alert evaluator, which sends the same rules' alerts.

import { isAbort } from '../api.js';
import { duplicateAlertsBanner, isCinevault, workersNotice } from '../cinevault.js';
import { h } from '../dom.js';
import { formatAgo, formatDateTime, formatDuration, formatNumber } from '../format.js';
import { Panel, badge, banner, failure, field, setFieldError, table } from '../ui.js';

const CHANNEL_TYPES = [
  ['discord', 'Discord'],
  ['slack', 'Slack'],
  ['generic', 'Generic webhook'],
  ['alertmanager', 'Alertmanager'],
];

const CONDITIONS = {
  disk_space_low: {
    label: 'Disk space low', threshold: 'Free disk below (GB)', unit: 'GB free', defaultThreshold: 50,
    hint: 'Fires when a host’s free disk space falls below this many gigabytes.',
    describe: (t) => `free disk < ${t} GB`,
  },
  gpu_temp_high: {
    label: 'GPU temperature high', threshold: 'GPU temperature above (°C)', unit: '°C', defaultThreshold: 80,
    hint: 'Fires when a host’s GPU runs hotter than this.',
    describe: (t) => `GPU > ${t} °C`,
  },
  transcode_failure: {
    label: 'Transcode failures', threshold: 'Failures in the last hour above', unit: 'failures', defaultThreshold: 3,
    hint: 'Fires when more transcodes than this failed in the last 60 minutes.',
    describe: (t) => `> ${t} failed transcodes / h`,
  },
  stream_error: {
    label: 'Stream errors', threshold: 'Stream errors in the last hour above', unit: 'errors', defaultThreshold: 10,
    hint: 'Fires when more stream errors than this were reported in the last 60 minutes.',
    describe: (t) => `> ${t} stream errors / h`,
  },
};

const KIND = { alert: ['Alert', 'danger'], resolved: ['Resolved', 'ok'], test: ['Test', 'accent'] };
const SENT_BY = { sidecar: 'Sidecar', cinevault: 'CineVault' };

function typeLabel(type) {
  return (CHANNEL_TYPES.find(([v]) => v === type) ?? [type, type])[1];
}

function eventsLabel(events) {
  if (events.includes('all')) return 'All alerts';
  return events.map((e) => CONDITIONS[e]?.label ?? e).join(', ');
}

function enabledBadge(on) {
  return on ? badge('Enabled', 'ok') : badge('Disabled', 'neutral');
}

/** Checks a webhook URL as the API will, so the common mistakes never leave the page. */
function checkUrl(value) {
  if (value.length > 2048) return 'At most 2048 characters.';
  if (value.includes('…')) return 'This is the masked URL; paste the full URL, or leave the field empty to keep it.';
  let url;
  try {
    url = new URL(value);
  } catch {
    return 'Enter a full URL, starting with https://';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'Only http and https URLs can receive webhooks.';
  return null;
}

function checkName(value) {
  if (!value) return 'Enter a name.';
  if ([...value].length > 100) return 'At most 100 characters.';
  return null;
}

export default {
  id: 'alerts',
  title: 'Alerts',
  description: 'Where alerts go, when they fire, and what was sent.',
  live: false,
  mount(view) {
    let channels = [];
    let rules = [];

    const dialog = h('dialog', { class: 'dialog', 'aria-modal': 'true' });
    dialog.addEventListener('close', () => {
      dialog.replaceChildren();
      if (dialog.returnFocus?.isConnected) dialog.returnFocus.focus();
    });
    const newChannel = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'new-channel', text: 'New channel' });
    const newRule = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'new-rule', text: 'New rule' });
    const channelPanel = new Panel('Notification channels', { className: 'panel-wide', actions: [newChannel], note: 'Webhook targets; URLs are shown masked.' });
    const rulePanel = new Panel('Alert rules', { className: 'panel-wide', actions: [newRule], note: 'Evaluated by the sidecar every few minutes.' });
    const logPanel = new Panel('Alert log', { className: 'panel-wide', note: 'The last 100 deliveries, newest first.' });
    // Filled on CineVault's database only.
    const notice = h('div', { class: 'notice-slot panel-wide' });
    view.root.append(h('div', { class: 'grid' }, notice, channelPanel.el, rulePanel.el, logPanel.el), dialog);

    const openDialog = (title, content, opener) => {
      dialog.returnFocus = opener ?? document.activeElement;
      dialog.setAttribute('aria-label', title);
      dialog.replaceChildren(h('div', { class: 'dialog-head' }, h('h2', { text: title }),
        h('button', { type: 'button', class: 'btn btn-ghost btn-icon', 'aria-label': 'Close', text: '✕', onclick: () => dialog.close() })), content);
      dialog.showModal();
      const first = dialog.querySelector('input:not([type=hidden]), select, textarea');
      if (first) first.focus();
    };

    const confirmDelete = (title, text, action, opener) => {
      const status = h('div');
      const yes = h('button', { type: 'button', class: 'btn btn-danger', 'data-action': 'confirm-delete', text: 'Delete' });
      yes.addEventListener('click', async () => {
        yes.disabled = true;
        try {
          await action();
          dialog.close();
        } catch (err) {
          if (isAbort(err) || err?.status === 401) return;
          status.replaceChildren(banner('error', err.message));
          yes.disabled = false;
        }
      });
      openDialog(title, h('div', { class: 'dialog-body' }, h('p', { text }), status,
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn btn-ghost', text: 'Cancel', onclick: () => dialog.close() }), yes)), opener);
      yes.focus();
    };

    /** Shows the API's refusal: on the field it names when the form has it, and above. */
    const showRefusal = (err, fields, status) => {
      const f = err.field && fields[err.field.split('[')[0]];
      if (f) setFieldError(f, err.message);
      status.replaceChildren(banner('error', `The server refused this: ${err.message}`));
      (f?.control ?? status).focus?.();
    };

    // ---- channels -------------------------------------------------------------------
    function channelForm(existing, opener) {
      const type = h('select', { name: 'channel_type' }, CHANNEL_TYPES.map(([v, t]) => h('option', { value: v, text: t })));
      type.value = existing?.channel_type ?? 'discord';
      const eventBoxes = [['all', 'All alerts'], ...Object.entries(CONDITIONS).map(([k, c]) => [k, c.label])].map(([value, text]) => {
        const box = h('input', { type: 'checkbox', name: 'events', value, checked: (existing?.events ?? ['all']).includes(value) });
        return { value, box, el: h('label', { class: 'check' }, box, text) };
      });
      const syncEvents = () => {
        const all = eventBoxes[0].box.checked;
        for (const e of eventBoxes.slice(1)) e.box.disabled = all;
      };
      eventBoxes[0].box.addEventListener('change', syncEvents);
      syncEvents();
      const fields = {
        name: field('Name', h('input', { type: 'text', name: 'name', maxlength: '100', value: existing?.name ?? '', autocomplete: 'off' })),
        channel_type: field('Type', type),
        webhook_url: field('Webhook URL', h('input', {
          type: 'url', name: 'webhook_url', autocomplete: 'off', spellcheck: 'false',
          placeholder: existing ? existing.webhook_url : 'https://…',
        }), { hint: existing ? 'Leave empty to keep the current URL.' : 'Discord and Slack webhook URLs carry a secret: they are stored, never shown again in full.' }),
        signing_secret: field('Signing secret', h('input', { type: 'password', name: 'signing_secret', autocomplete: 'new-password' }), {
          hint: existing?.signing_secret_set
            ? 'A secret is set; leave empty to keep it. 16-256 characters.'
            : 'Optional: requests are signed with HMAC-SHA256 (Standard Webhooks). 16-256 characters.',
        }),
      };
      const removeSecret = h('input', { type: 'checkbox', name: 'remove_secret' });
      const removeSecretLabel = h('label', { class: 'check', hidden: !existing?.signing_secret_set }, removeSecret, 'Remove the signing secret');
      const enabled = h('input', { type: 'checkbox', name: 'is_enabled', checked: existing?.is_enabled ?? true });
      const eventsError = h('p', { class: 'field-error', id: 'events-error', hidden: true });
      const eventsSet = h('fieldset', { class: 'field checks', 'aria-describedby': 'events-error' },
        h('legend', { text: 'Send these alerts' }), eventBoxes.map((e) => e.el), eventsError);
      fields.events = { el: eventsSet, control: eventBoxes[0].box, error: eventsError };
      const syncType = () => {
        const generic = type.value === 'generic';
        fields.signing_secret.el.hidden = !generic;
        removeSecretLabel.hidden = !(generic && existing?.signing_secret_set);
        fields.webhook_url.control.placeholder = existing ? existing.webhook_url
          : type.value === 'alertmanager' ? 'http://alertmanager:9093' : 'https://…';
      };
      type.addEventListener('change', syncType);
      syncType();

      const status = h('div', { class: 'form-status' });
      const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: existing ? 'Save channel' : 'Create channel' });
      const form = h('form', { class: 'dialog-body form', novalidate: true, 'data-form': 'channel' },
        status, fields.name.el, fields.channel_type.el, fields.webhook_url.el, eventsSet, fields.signing_secret.el, removeSecretLabel,
        h('label', { class: 'check' }, enabled, 'Enabled'),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn btn-ghost', text: 'Cancel', onclick: () => dialog.close() }), submit));

      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        Object.values(fields).forEach((f) => setFieldError(f, null));
        status.replaceChildren();
        const name = fields.name.control.value.trim();
        const url = fields.webhook_url.control.value.trim();
        const secret = fields.signing_secret.control.value;
        const events = eventBoxes[0].box.checked ? ['all'] : eventBoxes.slice(1).filter((e) => e.box.checked).map((e) => e.value);
        const problems = [
          ['name', checkName(name)],
          ['webhook_url', url ? checkUrl(url) : existing ? null : 'Enter the webhook URL.'],
          ['events', events.length ? null : 'Choose at least one kind of alert.'],
          ['signing_secret', type.value === 'generic' && secret && (secret.length < 16 || secret.length > 256) ? 'Between 16 and 256 characters.' : null],
        ].filter(([, problem]) => problem);
        for (const [key, problem] of problems) setFieldError(fields[key], problem);
        if (problems.length) {
          fields[problems[0][0]].control.focus();
          return;
        }
        const body = { name, channel_type: type.value, events, is_enabled: enabled.checked };
        if (url) body.webhook_url = url;
        if (type.value === 'generic') {
          if (secret) body.signing_secret = secret;
          else if (existing?.signing_secret_set && removeSecret.checked) body.signing_secret = null;
        }
        submit.disabled = true;
        try {
          const saved = existing
            ? await view.api(`/notifications/channels/${existing.id}`, { method: 'PUT', body })
            : await view.api('/notifications/channels', { method: 'POST', body });
          dialog.close();
          channelPanel.message('ok', `Channel “${saved.name}” ${existing ? 'saved' : 'created'}.`);
          await loadChannels(true);
        } catch (err) {
          if (isAbort(err) || err?.status === 401) return;
          showRefusal(err, fields, status);
        } finally {
          submit.disabled = false;
        }
      });
      openDialog(existing ? `Edit channel “${existing.name}”` : 'New channel', form, opener);
    }

    async function testChannel(channel, button) {
      button.disabled = true;
      button.textContent = 'Testing…';
      try {
        const r = await view.api(`/notifications/channels/${channel.id}/test`, { method: 'POST' });
        const attempts = `${formatNumber(r.attempts)} attempt${r.attempts === 1 ? '' : 's'}`;
        if (r.delivered) {
          channelPanel.message('ok', `Test message delivered to “${channel.name}” (HTTP ${r.http_status}, ${attempts}, ${formatNumber(r.duration_ms)} ms).`);
        } else {
          channelPanel.message('error', `Test message to “${channel.name}” failed: ${r.error ?? 'no answer'} (${attempts}).`);
        }
        loadLog();
      } catch (err) {
        if (isAbort(err) || err?.status === 401) return;
        channelPanel.message('error', `Could not test “${channel.name}”: ${err.message}`);
      } finally {
        button.disabled = false;
        button.textContent = 'Test';
      }
    }

    const channelColumns = [
      { label: 'Name', value: (c) => h('strong', { text: c.name }) },
      { label: 'Type', value: (c) => typeLabel(c.channel_type) },
      { label: 'Webhook', value: (c) => h('code', { class: 'url', text: c.webhook_url }), class: 'wrap' },
      { label: 'Alerts', value: (c) => eventsLabel(c.events) },
      { label: 'Status', value: (c) => enabledBadge(c.is_enabled) },
      {
        label: 'Actions',
        class: 'actions',
        value: (c) => h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'test', 'aria-label': `Send a test message to ${c.name}`, text: 'Test', onclick: (e) => testChannel(c, e.currentTarget) }),
          h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'edit', 'aria-label': `Edit channel ${c.name}`, text: 'Edit', onclick: (e) => channelForm(c, e.currentTarget) }),
          h('button', {
            type: 'button', class: 'btn btn-small btn-danger-ghost', 'data-action': 'delete', 'aria-label': `Delete channel ${c.name}`, text: 'Delete',
            onclick: (e) => confirmDelete(`Delete channel “${c.name}”?`,
              'Its webhook stops receiving alerts. A channel that alert rules still use cannot be deleted; the log keeps its entries.',
              async () => {
                await view.api(`/notifications/channels/${c.id}`, { method: 'DELETE' });
                channelPanel.message('ok', `Channel “${c.name}” deleted.`);
                await loadChannels(true);
              }, e.currentTarget),
          })),
      },
    ];

    const loadChannels = (keepMessage = false) => view.load(channelPanel, 'the notification channels', async () => {
      channels = await view.api('/notifications/channels');
      const message = keepMessage ? [...channelPanel.status.childNodes] : [];
      channelPanel.show(table(channelColumns, channels, {
        caption: 'Notification channels', testid: 'channels',
        emptyText: 'No channels yet. Create one to receive alerts on Discord, Slack, Alertmanager or any webhook.',
      }));
      channelPanel.status.replaceChildren(...message);
      renderRules();
    });

    newChannel.addEventListener('click', (e) => channelForm(null, e.currentTarget));

    // ---- rules ----------------------------------------------------------------------
    function ruleForm(existing, opener) {
      if (!channels.length) {
        rulePanel.message('info', 'Create a notification channel first: every rule sends to one.');
        return;
      }
      const condition = h('select', { name: 'condition_type' },
        Object.entries(CONDITIONS).map(([v, c]) => h('option', { value: v, text: c.label })));
      condition.value = existing?.condition_type ?? 'disk_space_low';
      const channel = h('select', { name: 'channel_id' },
        channels.map((c) => h('option', { value: c.id, text: `${c.name} (${typeLabel(c.channel_type)})` })));
      channel.value = existing?.channel_id ?? channels[0].id;
      const fields = {
        name: field('Name', h('input', { type: 'text', name: 'name', maxlength: '100', value: existing?.name ?? '', autocomplete: 'off' })),
        condition_type: field('Condition', condition),
        threshold: field('Threshold', h('input', {
          type: 'number', name: 'threshold', min: '0', step: 'any', inputmode: 'decimal',
          value: String(existing?.threshold ?? CONDITIONS[condition.value].defaultThreshold),
        }), { hint: ' ' }),
        cooldown_minutes: field('Cooldown (minutes)', h('input', {
          type: 'number', name: 'cooldown_minutes', min: '0', max: '525600', step: '1', inputmode: 'numeric',
          value: String(existing?.cooldown_minutes ?? 60),
        }), { hint: 'After an alert, wait this long before sending it again.' }),
        channel_id: field('Send to', channel),
      };
      const thresholdLabel = fields.threshold.el.querySelector('label');
      const thresholdHint = fields.threshold.el.querySelector('.field-hint');
      const syncCondition = (changed) => {
        const c = CONDITIONS[condition.value];
        thresholdLabel.textContent = c.threshold;
        thresholdHint.textContent = c.hint;
        if (changed && !existing) fields.threshold.control.value = String(c.defaultThreshold);
      };
      condition.addEventListener('change', () => syncCondition(true));
      syncCondition(false);
      const enabled = h('input', { type: 'checkbox', name: 'is_enabled', checked: existing?.is_enabled ?? true });
      const resolved = h('input', { type: 'checkbox', name: 'send_resolved', checked: existing?.send_resolved ?? true });
      const status = h('div', { class: 'form-status' });
      const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: existing ? 'Save rule' : 'Create rule' });
      const form = h('form', { class: 'dialog-body form', novalidate: true, 'data-form': 'rule' },
        status, fields.name.el, fields.condition_type.el,
        h('div', { class: 'field-row' }, fields.threshold.el, fields.cooldown_minutes.el),
        fields.channel_id.el,
        h('label', { class: 'check' }, enabled, 'Enabled'),
        h('label', { class: 'check' }, resolved, 'Send a “resolved” message when the condition clears'),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn btn-ghost', text: 'Cancel', onclick: () => dialog.close() }), submit));

      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        Object.values(fields).forEach((f) => setFieldError(f, null));
        status.replaceChildren();
        const name = fields.name.control.value.trim();
        const thresholdText = fields.threshold.control.value.trim();
        const cooldownText = fields.cooldown_minutes.control.value.trim();
        const threshold = Number(thresholdText);
        const cooldown = Number(cooldownText);
        const problems = [
          ['name', checkName(name)],
          ['threshold', thresholdText === '' || !Number.isFinite(threshold) ? 'Enter a number.' : threshold < 0 ? 'Zero or more.' : null],
          ['cooldown_minutes', cooldownText === '' || !Number.isInteger(cooldown) ? 'Enter a whole number of minutes.'
            : cooldown < 0 || cooldown > 525600 ? 'Between 0 and 525600 minutes (a year).' : null],
          ['channel_id', channel.value ? null : 'Choose a channel.'],
        ].filter(([, problem]) => problem);
        for (const [key, problem] of problems) setFieldError(fields[key], problem);
        if (problems.length) {
          fields[problems[0][0]].control.focus();
          return;
        }
        const body = {
          name, condition_type: condition.value, threshold, cooldown_minutes: cooldown,
          channel_id: channel.value, is_enabled: enabled.checked, send_resolved: resolved.checked,
        };
        submit.disabled = true;
        try {
          const saved = existing
            ? await view.api(`/notifications/alerts/${existing.id}`, { method: 'PUT', body })
            : await view.api('/notifications/alerts', { method: 'POST', body });
          dialog.close();
          rulePanel.message('ok', `Rule “${saved.name}” ${existing ? 'saved' : 'created'}.`);
          await loadRules(true);
        } catch (err) {
          if (isAbort(err) || err?.status === 401) return;
          showRefusal(err, fields, status);
        } finally {
          submit.disabled = false;
        }
      });
      openDialog(existing ? `Edit rule “${existing.name}”` : 'New alert rule', form, opener);
    }

    const ruleColumns = [
      { label: 'Name', value: (r) => h('strong', { text: r.name }) },
      { label: 'Condition', value: (r) => CONDITIONS[r.condition_type]?.label ?? r.condition_type },
      { label: 'Fires when', value: (r) => CONDITIONS[r.condition_type]?.describe(r.threshold) ?? String(r.threshold) },
      { label: 'Cooldown', value: (r) => formatDuration(r.cooldown_minutes * 60) },
      { label: 'Channel', value: (r) => channels.find((c) => c.id === r.channel_id)?.name ?? '–' },
      { label: 'Status', value: (r) => enabledBadge(r.is_enabled) },
      { label: 'Last alert', value: (r) => (r.last_triggered_at ? formatAgo(r.last_triggered_at) : 'never') },
      {
        label: 'Actions',
        class: 'actions',
        value: (r) => h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'edit', 'aria-label': `Edit rule ${r.name}`, text: 'Edit', onclick: (e) => ruleForm(r, e.currentTarget) }),
          h('button', {
            type: 'button', class: 'btn btn-small btn-danger-ghost', 'data-action': 'delete', 'aria-label': `Delete rule ${r.name}`, text: 'Delete',
            onclick: (e) => confirmDelete(`Delete rule “${r.name}”?`, 'It stops being evaluated; the log keeps its entries.', async () => {
              await view.api(`/notifications/alerts/${r.id}`, { method: 'DELETE' });
              rulePanel.message('ok', `Rule “${r.name}” deleted.`);
              await loadRules(true);
            }, e.currentTarget),
          })),
      },
    ];

    let rulesLoaded = false;
    function renderRules() {
      if (!rulesLoaded) return;
      const message = [...rulePanel.status.childNodes];
      rulePanel.show(table(ruleColumns, rules, {
        caption: 'Alert rules', testid: 'rules',
        emptyText: 'No alert rules yet. A rule watches disk space, GPU temperature, transcode failures or stream errors.',
      }));
      rulePanel.status.replaceChildren(...message);
    }

    const loadRules = (keepMessage = false) => view.load(rulePanel, 'the alert rules', async () => {
      if (!keepMessage) rulePanel.status.replaceChildren();
      rules = await view.api('/notifications/alerts');
      rulesLoaded = true;
      renderRules();
    });

    newRule.addEventListener('click', (e) => ruleForm(null, e.currentTarget));

    // ---- log ------------------------------------------------------------------------
    const logColumns = [
      { label: 'Sent', value: (l) => formatDateTime(l.sent_at) },
      { label: 'Kind', value: (l) => { const [t, tone] = KIND[l.kind] ?? [l.kind, 'neutral']; return badge(t, tone); } },
      { label: 'Rule', value: (l) => l.rule_name ?? (l.kind === 'test' ? '–' : 'deleted rule') },
      { label: 'Channel', value: (l) => l.channel_name ?? 'deleted channel' },
      { label: 'Message', value: (l) => l.message, class: 'wrap' },
      {
        label: 'Result',
        value: (l) => (l.success
          ? badge(`✓ ${l.http_status ?? 'sent'}`, 'ok')
          : h('span', { class: 'outcome' }, badge('✗ Failed', 'danger'), h('span', { class: 'error-detail', text: l.error_detail ?? '' }))),
        class: 'wrap',
      },
      { label: 'Tries', value: (l) => formatNumber(l.attempts), numeric: true },
      { label: 'Sent by', value: (l) => SENT_BY[l.sent_by] ?? l.sent_by ?? '–' },
    ];

    const loadLog = () => view.load(logPanel, 'the alert log', async () => {
      const log = await view.api('/notifications/log');
      logPanel.show(table(logColumns, log, {
        caption: 'Alert log', testid: 'log',
        emptyText: 'Nothing sent yet. Alerts, resolved messages and test messages appear here.',
      }));
    });

    const loadNotice = async () => {
      try {
        const status = await view.api('/status');
        // Both send: the warning says so (and how to stop it); otherwise what was seen.
        if (status.settings?.evaluate_alerts === false) {
          rulePanel.note.textContent = isCinevault(status)
            ? 'The sidecar evaluates none of them (--evaluate-alerts false): CineVault’s own evaluator sends their alerts.'
            : 'Not evaluated: the sidecar runs with --evaluate-alerts false.';
        }
        notice.replaceChildren(duplicateAlertsBanner(status)
          ?? workersNotice(status, { only: ['alert_evaluator'], title: 'CineVault’s alert evaluator', full: false })
          ?? '');
      } catch (err) {
        if (isAbort(err) || !view.alive || err?.status === 401) return;
        notice.replaceChildren(banner('error', failure('the server status', err)));
      }
    };

    loadNotice();
    loadChannels();
    loadRules();
    loadLog();
  },
};
