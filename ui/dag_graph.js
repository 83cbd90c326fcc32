// dag_graph.js — a DAG's tasks drawn as an SVG graph, layered left to
// right by their dependencies: a task with no upstream is in layer 0, any
// other one layer after its latest upstream, so every edge points right.
// Within a layer, tasks are ordered by the mean position of their
// upstream tasks (one barycentre pass: fewer crossings, no search). Each
// node's border and fill show its state in the run chosen (Airflow's
// colours, style.css); a node is a link to its log when it has a try.

const SVG = 'http://www.w3.org/2000/svg';
const NODE_WIDTH = 150, NODE_HEIGHT = 36, GAP_X = 56, GAP_Y = 14, MARGIN = 8;

function svg(tag, attrs, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) element.setAttribute(name, String(value));
  for (const child of children) element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return element;
}

// tasks: [{task_id, depends_on}]; layer of each task id (depends_on is acyclic: the server checks it).
export function layers(tasks) {
  const byId = new Map(tasks.map((t) => [t.task_id, t]));
  const layer = new Map();
  const visit = (id, depth) => {
    if (layer.has(id)) return layer.get(id);
    if (depth > tasks.length) return 0;   // a cycle would be a server bug: draw it flat, never loop
    const task = byId.get(id);
    const ups = (task && task.depends_on) || [];
    const value = ups.length ? 1 + Math.max(...ups.map((u) => visit(u, depth + 1))) : 0;
    layer.set(id, value);
    return value;
  };
  for (const t of tasks) visit(t.task_id, 0);
  return layer;
}

// stateOf(task_id) → state or null; hrefOf(task_id) → a link or null.
export function dagGraph(tasks, stateOf, hrefOf) {
  const layer = layers(tasks);
  const columns = [];
  for (const t of tasks) {
    const l = layer.get(t.task_id);
    (columns[l] = columns[l] || []).push(t);
  }
  const row = new Map();
  columns.forEach((column, l) => {
    if (l > 0) {
      const weight = (t) => {
        const ups = (t.depends_on || []).filter((u) => row.has(u));
        return ups.length ? ups.reduce((sum, u) => sum + row.get(u), 0) / ups.length : 0;
      };
      column.sort((a, b) => weight(a) - weight(b));
    }
    column.forEach((t, i) => row.set(t.task_id, i));
  });
  const tallest = Math.max(1, ...columns.map((c) => (c ? c.length : 0)));
  const width = MARGIN * 2 + columns.length * NODE_WIDTH + Math.max(0, columns.length - 1) * GAP_X;
  const height = MARGIN * 2 + tallest * NODE_HEIGHT + (tallest - 1) * GAP_Y;
  const position = (id) => {
    const l = layer.get(id), column = columns[l];
    const offset = ((tallest - column.length) * (NODE_HEIGHT + GAP_Y)) / 2;
    return { x: MARGIN + l * (NODE_WIDTH + GAP_X), y: MARGIN + offset + row.get(id) * (NODE_HEIGHT + GAP_Y) };
  };

  const graph = svg('svg', { class: 'dag-graph', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-label': `the DAG's ${tasks.length} tasks, dependencies left to right` });
  graph.append(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
    svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'edge-head' }))));
  for (const t of tasks) {
    for (const up of t.depends_on || []) {
      if (!layer.has(up)) continue;
      const from = position(up), to = position(t.task_id);
      const x1 = from.x + NODE_WIDTH, y1 = from.y + NODE_HEIGHT / 2, x2 = to.x, y2 = to.y + NODE_HEIGHT / 2;
      const bend = Math.max(20, (x2 - x1) / 2);
      graph.append(svg('path', { class: 'edge', d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
        'marker-end': 'url(#arrow)', 'data-from': up, 'data-to': t.task_id }));
    }
  }
  for (const t of tasks) {
    const { x, y } = position(t.task_id);
    const state = stateOf(t.task_id) || 'none';
    const label = t.task_id.length > 18 ? `${t.task_id.slice(0, 17)}…` : t.task_id;
    const node = svg('g', { class: `node state-${state}`, 'data-task': t.task_id, 'data-state': state, transform: `translate(${x},${y})` },
      svg('title', {}, `${t.task_id} (${t.kind || 'task'}): ${state.replace(/_/g, ' ')}`),
      svg('rect', { width: NODE_WIDTH, height: NODE_HEIGHT, rx: 6 }),
      svg('text', { x: 10, y: NODE_HEIGHT / 2 + 4 }, label));
    const href = hrefOf(t.task_id);
    graph.append(href ? svg('a', { href, 'aria-label': `${t.task_id}: ${state}, its log` }, node) : node);
  }
  return graph;
}
