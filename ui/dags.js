// dags.js — the scheduler's DAGs: the list (paged, with pause and trigger
// buttons), one DAG (its graph, a grid of its recent runs × its tasks in
// Airflow's state colours, trigger with an optional conf, pause/unpause,
// clear), and a try's log. The DAG page refreshes every 3 seconds; a run's
// tries are fetched again only when the run has changed (its state or
// dates), so a DAG with 25 finished runs costs one request a refresh.

import { get, post, request } from './api.js';
import { dagGraph } from './dag_graph.js';
import { badge, count, duration, enc, every, fill, h, notify, reportError, time } from './dom.js';
import { pagedList } from './pager.js';

const REFRESH_MS = 3000;
const GRID_RUNS = 25;

function triggerForm(dagId, afterTrigger) {
  const id = `trigger-${dagId.replace(/[^a-z0-9_-]/gi, '_')}`;
  const conf = h('textarea', { id: `${id}-conf`, name: 'conf', rows: 3, placeholder: '{"key": "value"} (optional)' });
  const date = h('input', { id: `${id}-date`, name: 'logical_date', type: 'text', placeholder: '2024-01-01T00:00:00Z (optional)' });
  const result = h('p', { class: 'form-result', role: 'status' });
  const form = h('form', { class: 'trigger' },
    h('div', { class: 'field wide' }, h('label', { for: conf.id }, 'Conf (a JSON object)'), conf),
    h('div', { class: 'field' }, h('label', { for: date.id }, 'Logical date'), date),
    h('button', { type: 'submit' }, 'Trigger'), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {};
    if (conf.value.trim()) {
      try { body.conf = JSON.parse(conf.value); } catch (error) { result.textContent = `conf is not JSON: ${error.message}`; conf.focus(); return; }
      if (body.conf === null || typeof body.conf !== 'object' || Array.isArray(body.conf)) {
        result.textContent = 'conf must be a JSON object'; conf.focus(); return;
      }
    }
    if (date.value.trim()) body.logical_date = date.value.trim();
    try {
      const run = await post(`/api/v1/dags/${enc(dagId)}/runs`, body);
      result.textContent = `Triggered ${run.run_id}.`;
      notify(`${dagId}: triggered ${run.run_id}`);
      afterTrigger(run);
    } catch (error) {
      result.textContent = error.message;
      reportError(error);
    }
  });
  return form;
}

async function setPaused(dagId, isPaused) {
  const dag = await post(`/api/v1/dags/${enc(dagId)}/${isPaused ? 'pause' : 'unpause'}`);
  notify(`${dagId} is ${dag.is_paused ? 'paused' : 'unpaused'}`);
  return dag;
}

export function renderList(main, params, query) {
  let list = null;
  const pauseButton = (dag) => h('button', { type: 'button', 'aria-pressed': String(dag.is_paused), 'aria-label': `${dag.is_paused ? 'unpause' : 'pause'} ${dag.dag_id}`,
    onclick: async () => { try { await setPaused(dag.dag_id, !dag.is_paused); list.reload(); } catch (error) { reportError(error); } } },
  dag.is_paused ? 'Unpause' : 'Pause');
  const triggerButton = (dag) => h('button', { type: 'button', 'aria-label': `trigger ${dag.dag_id}`,
    onclick: async () => {
      try { const run = await post(`/api/v1/dags/${enc(dag.dag_id)}/runs`, {}); notify(`${dag.dag_id}: triggered ${run.run_id}`); } catch (error) { reportError(error); }
    } }, 'Trigger');
  list = pagedList({
    id: 'dags', path: '/api/v1/dags', key: 'dags', route: '/dags', noun: 'DAGs', query, filters: [],
    headings: ['DAG', 'Schedule', 'State', 'Next data interval', 'Tasks', 'Actions'],
    row: (dag) => h('tr', { 'data-dag': dag.dag_id },
      h('th', { scope: 'row' }, h('a', { href: `#/dags/${enc(dag.dag_id)}` }, dag.dag_id),
        dag.description ? h('div', { class: 'muted' }, dag.description) : null),
      h('td', {}, dag.schedule ? h('code', {}, dag.schedule) : h('span', { class: 'muted' }, 'manual only'),
        dag.timezone && dag.timezone !== 'UTC' ? ` (${dag.timezone})` : ''),
      h('td', {}, badge(dag.is_paused ? 'paused' : 'active')),
      h('td', {}, dag.next_dagrun_data_interval ? [time(dag.next_dagrun_data_interval.start), ' → ', time(dag.next_dagrun_data_interval.end)] : '—'),
      h('td', { class: 'num' }, count(dag.task_count)),
      h('td', {}, h('div', { class: 'actions' }, triggerButton(dag), pauseButton(dag)))),
  });
  fill(main, h('h1', {}, 'DAGs'), list.element);
}

// The latest try of each task of a run: {task_id: TRY}.
function latestTries(run) {
  const latest = {};
  for (const t of run.task_instances || [])
    if (!latest[t.task_id] || t.try_number > latest[t.task_id].try_number) latest[t.task_id] = t;
  return latest;
}

const signature = (run) => `${run.state}|${run.start_date}|${run.end_date}|${run.queued_at}`;

function logHref(dagId, runId, taskId, tryNumber) {
  return `#/dags/${enc(dagId)}/runs/${enc(runId)}/tasks/${enc(taskId)}/log${tryNumber ? `?try=${tryNumber}` : ''}`;
}

export function renderDag(main, params) {
  const dagId = params.dag;
  const title = h('h1', {}, dagId);
  const summary = h('dl', { class: 'facts' });
  const pause = h('button', { type: 'button', id: 'dag-pause' }, 'Pause');
  const graphBox = h('div', { class: 'graph-wrap', id: 'dag-graph' });
  const gridBox = h('div', { class: 'table-wrap grid-wrap', id: 'dag-grid' });
  const selection = h('section', { class: 'selection', id: 'dag-selection', 'aria-live': 'polite' },
    h('p', { class: 'muted' }, 'Choose a cell of the grid to see that try, its log and clear it.'));
  let refreshNow = () => {};
  fill(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/dags' }, 'DAGs'), ' / '),
    title, summary,
    h('div', { class: 'actions' }, pause),
    h('details', { class: 'trigger-box' }, h('summary', {}, 'Trigger a run'), triggerForm(dagId, () => refreshNow())),
    h('h2', {}, 'Graph'), graphBox,
    h('h2', {}, 'Recent runs'), gridBox, selection);

  let dag = null;
  const runs = new Map();   // run_id → {signature, run with task_instances}
  let chosen = null;        // {runId, taskId|null}

  pause.addEventListener('click', async () => {
    if (!dag) return;
    pause.disabled = true;
    try { await setPaused(dagId, !dag.is_paused); refreshNow(); } catch (error) { reportError(error); } finally { pause.disabled = false; }
  });

  const clear = async (runId, body, what) => {
    try {
      const answer = await post(`/api/v1/dags/${enc(dagId)}/runs/${enc(runId)}/clear`, body);
      notify(answer.cleared.length ? `${what}: cleared ${answer.cleared.join(', ')}; the run is ${answer.state}` : `${what}: nothing to clear`);
      refreshNow();
    } catch (error) {
      reportError(error);
    }
  };

  const drawSelection = () => {
    if (!chosen || !runs.has(chosen.runId)) return;
    const run = runs.get(chosen.runId).run;
    const focusedId = document.activeElement && document.activeElement.id;
    const runFacts = h('dl', { class: 'facts' },
      h('dt', {}, 'Run'), h('dd', {}, run.run_id, ' ', badge(run.state)),
      h('dt', {}, 'Type'), h('dd', {}, run.run_type),
      h('dt', {}, 'Data interval'), h('dd', {}, time(run.data_interval_start), ' → ', time(run.data_interval_end)),
      h('dt', {}, 'Started'), h('dd', {}, time(run.start_date)), h('dt', {}, 'Ended'), h('dd', {}, time(run.end_date)),
      h('dt', {}, 'Conf'), h('dd', {}, h('code', {}, JSON.stringify(run.conf || {}))));
    const runActions = h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'clear-failed', onclick: () => clear(run.run_id, { only_failed: true }, run.run_id) }, 'Clear failed tasks'),
      h('button', { type: 'button', id: 'clear-run', onclick: () => clear(run.run_id, { only_failed: false }, run.run_id) }, 'Clear every task'));
    let tryPart = null;
    if (chosen.taskId) {
      const tries = (run.task_instances || []).filter((t) => t.task_id === chosen.taskId).sort((a, b) => a.try_number - b.try_number);
      const latest = tries[tries.length - 1];
      tryPart = h('div', { class: 'try' },
        h('h3', {}, `Task ${chosen.taskId}`),
        latest ? h('dl', { class: 'facts' },
          h('dt', {}, 'State'), h('dd', {}, badge(latest.state)),
          h('dt', {}, 'Try'), h('dd', {}, `${latest.try_number} of at most ${latest.max_tries}`),
          h('dt', {}, 'Started'), h('dd', {}, time(latest.start_date)),
          h('dt', {}, 'Duration'), h('dd', {}, latest.duration_s === null ? '—' : duration(latest.duration_s * 1000)),
          h('dt', {}, 'Exit status'), h('dd', {}, latest.exit_status === null ? '—' : String(latest.exit_status)),
          h('dt', {}, 'Server'), h('dd', {}, latest.server_id || '—'))
          : h('p', { class: 'muted' }, 'No try yet.'),
        h('p', {}, tries.map((t, i) => [i ? ' · ' : '', h('a', { href: logHref(dagId, run.run_id, chosen.taskId, t.try_number) }, `log of try ${t.try_number}`)])),
        h('div', { class: 'actions' },
          h('button', { type: 'button', id: 'clear-task', onclick: () => clear(run.run_id, { tasks: [chosen.taskId], only_failed: false }, `${chosen.taskId} in ${run.run_id}`) },
            'Clear this task and downstream')));
    }
    fill(selection, h('h3', {}, 'Run'), runFacts, runActions, tryPart);
    if (focusedId) { const again = document.getElementById(focusedId); if (again) again.focus(); }
  };

  const drawGrid = (recent) => {
    const focused = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.cell;
    const ordered = recent.slice(0, GRID_RUNS).reverse();   // oldest on the left, as Airflow's grid
    const tasks = dag.tasks || [];
    const header = h('tr', {}, h('th', { scope: 'col' }, 'Task'), ordered.map((run) =>
      h('th', { scope: 'col' }, h('button', { type: 'button', class: `run-cell state-${run.state}`, 'data-run': run.run_id, 'data-state': run.state,
        'data-cell': `run:${run.run_id}`, title: `${run.run_id}: ${run.state}`, 'aria-label': `run ${run.run_id}: ${run.state}`,
        onclick: () => { chosen = { runId: run.run_id, taskId: null }; drawSelection(); } }))));
    const rows = tasks.map((task) => h('tr', {}, h('th', { scope: 'row' }, task.task_id), ordered.map((run) => {
      const entry = runs.get(run.run_id);
      const latest = entry ? latestTries(entry.run)[task.task_id] : null;
      const state = latest ? latest.state : 'none';
      return h('td', {}, h('button', { type: 'button', class: `cell state-${state}`, 'data-run': run.run_id, 'data-task': task.task_id,
        'data-state': state, 'data-cell': `${run.run_id}:${task.task_id}`, title: `${task.task_id} in ${run.run_id}: ${state}`,
        'aria-label': `${task.task_id} in ${run.run_id}: ${state.replace(/_/g, ' ')}`,
        onclick: () => { chosen = { runId: run.run_id, taskId: task.task_id }; drawSelection(); } }));
    })));
    fill(gridBox, ordered.length ? h('table', { class: 'grid' }, h('thead', {}, header), h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'No runs yet.'));
    if (focused) { const again = gridBox.querySelector(`[data-cell="${CSS.escape(focused)}"]`); if (again) again.focus(); }
  };

  const refresh = async () => {
    dag = await get(`/api/v1/dags/${enc(dagId)}`);
    fill(title, dagId, ' ', badge(dag.is_paused ? 'paused' : 'active'));
    fill(summary,
      h('dt', {}, 'Schedule'), h('dd', {}, dag.schedule ? h('code', {}, dag.schedule) : 'manual only', dag.timezone ? ` (${dag.timezone})` : ''),
      h('dt', {}, 'Catchup'), h('dd', {}, dag.catchup ? 'yes' : 'no'),
      h('dt', {}, 'Max active runs'), h('dd', {}, count(dag.max_active_runs)),
      h('dt', {}, 'Next data interval'), h('dd', {}, dag.next_dagrun_data_interval
        ? [time(dag.next_dagrun_data_interval.start), ' → ', time(dag.next_dagrun_data_interval.end)] : '—'));
    pause.textContent = dag.is_paused ? 'Unpause' : 'Pause';
    pause.setAttribute('aria-pressed', String(dag.is_paused));
    const recent = dag.recent_runs || [];
    await Promise.all(recent.slice(0, GRID_RUNS).map(async (run) => {
      const known = runs.get(run.run_id);
      if (known && known.signature === signature(run) && run.state !== 'running' && run.state !== 'queued') return;
      const full = await get(`/api/v1/dags/${enc(dagId)}/runs/${enc(run.run_id)}`);
      runs.set(run.run_id, { signature: signature(full), run: full });
    }));
    const newest = recent[0] && runs.get(recent[0].run_id);
    const states = newest ? latestTries(newest.run) : {};
    fill(graphBox, dagGraph(dag.tasks || [], (id) => (states[id] ? states[id].state : null),
      (id) => (newest && states[id] ? logHref(dagId, newest.run.run_id, id, states[id].try_number) : null)),
    newest ? h('p', { class: 'muted' }, `States of the newest run, ${newest.run.run_id}.`) : null);
    drawGrid(recent);
    drawSelection();
  };

  const stop = every(REFRESH_MS, refresh);
  refreshNow = () => refresh().catch(reportError);
  return stop;
}

export function renderLog(main, params, query) {
  const { dag: dagId, run: runId, task: taskId } = params;
  const pre = h('pre', { class: 'log', id: 'task-log', tabindex: 0 }, 'Loading…');
  const tries = h('p', { class: 'tries' });
  const status = h('p', { class: 'muted' });
  fill(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/dags' }, 'DAGs'), ' / ', h('a', { href: `#/dags/${enc(dagId)}` }, dagId), ' / ', runId, ' / '),
    h('h1', {}, `Log of ${taskId}`), tries, status, pre);
  let finished = false;
  const refresh = async () => {
    if (finished) return;
    const run = await get(`/api/v1/dags/${enc(dagId)}/runs/${enc(runId)}`);
    const all = (run.task_instances || []).filter((t) => t.task_id === taskId).sort((a, b) => a.try_number - b.try_number);
    const wanted = query.try ? Number(query.try) : (all.length ? all[all.length - 1].try_number : 1);
    const shown = all.find((t) => t.try_number === wanted);
    fill(tries, all.map((t, i) => [i ? ' · ' : '', t.try_number === wanted ? h('strong', { 'aria-current': 'page' }, `try ${t.try_number}`)
      : h('a', { href: logHref(dagId, runId, taskId, t.try_number) }, `try ${t.try_number}`)]));
    fill(status, shown ? ['Try ', String(wanted), ': ', badge(shown.state)] : 'No such try.');
    if (!shown || shown.state === 'none' || shown.state === 'scheduled' || shown.state === 'queued') {
      pre.textContent = 'No log yet.';
      return;
    }
    try {
      const text = await request('GET', `/api/v1/dags/${enc(dagId)}/runs/${enc(runId)}/tasks/${enc(taskId)}/log?try=${wanted}`);
      pre.textContent = text || '(empty)';
    } catch (error) {
      if (error.status !== 404) throw error;
      pre.textContent = 'No log yet.';
    }
    finished = !['running', 'queued', 'scheduled', 'up_for_retry', 'none'].includes(shown.state);
  };
  return every(REFRESH_MS, refresh);
}
