// The drawing tools on the map (terra-draw with its MapLibre adapter): a polygon to draw, a
// plot's vertices to move, add (from an edge's midpoint) and delete, a line to split a plot
// along, undo and redo within the edit. Every vertex snaps to neighbouring plots and commune
// boundaries (snap.js). One drawn feature at a time.
import {
  TerraDraw, TerraDrawPolygonMode, TerraDrawSelectMode, TerraDrawLineStringMode,
  TerraDrawModeUndoRedo, TerraDrawSessionUndoRedo, TerraDrawUndoRedoKeyboardShortcuts,
} from 'terra-draw';
import { TerraDrawMapLibreGLAdapter } from 'terra-draw-maplibre-gl-adapter';
import { snapTo } from './snap.js';

const INK = '#1565c0';
const SNAP = '#d81b60';

let draw = null;
let current = null; // the id of the feature being drawn or edited
let listeners = { change: null, finish: null, history: null };
let drawingKind = 'polygon';
const GEOMETRY = { polygon: 'Polygon', linestring: 'LineString' };

const snapping = { toCustom: (event) => snapTo(event) };

/** Creates the drawing tools on map (once); they stay idle until a drawing starts. */
export function initDraw(map) {
  if (draw) return;
  draw = new TerraDraw({
    adapter: new TerraDrawMapLibreGLAdapter({ map, coordinatePrecision: 9 }),
    modes: [
      new TerraDrawPolygonMode({
        snapping,
        pointerDistance: 24,
        styles: {
          fillColor: INK, fillOpacity: 0.18, outlineColor: INK, outlineWidth: 2.5,
          closingPointColor: '#ffffff', closingPointOutlineColor: INK, closingPointWidth: 7, closingPointOutlineWidth: 3,
          snappingPointColor: SNAP, snappingPointWidth: 8, snappingPointOutlineColor: '#ffffff', snappingPointOutlineWidth: 3,
          coordinatePointColor: INK, coordinatePointWidth: 4,
        },
      }),
      new TerraDrawLineStringMode({
        snapping,
        styles: { lineStringColor: '#c62828', lineStringWidth: 3, closingPointColor: '#c62828', snappingPointColor: SNAP, snappingPointWidth: 8 },
      }),
      new TerraDrawSelectMode({
        pointerDistance: 24,
        allowManualDeselection: false,
        flags: {
          polygon: {
            feature: {
              draggable: false, selfIntersectable: true,
              coordinates: { draggable: true, deletable: true, midpoints: true, snappable: snapping },
            },
          },
          linestring: {
            feature: { draggable: false, coordinates: { draggable: true, deletable: true, midpoints: true, snappable: snapping } },
          },
        },
        styles: {
          selectedPolygonColor: INK, selectedPolygonFillOpacity: 0.18, selectedPolygonOutlineColor: INK, selectedPolygonOutlineWidth: 2.5,
          selectionPointColor: '#ffffff', selectionPointOutlineColor: INK, selectionPointWidth: 6, selectionPointOutlineWidth: 2.5,
          midPointColor: INK, midPointOutlineColor: '#ffffff', midPointWidth: 4, midPointOutlineWidth: 1.5,
          selectedLineStringColor: '#c62828', selectedLineStringWidth: 3,
        },
      }),
    ],
    undoRedo: {
      modeLevel: new TerraDrawModeUndoRedo(),
      sessionLevel: new TerraDrawSessionUndoRedo(),
      keyboardShortcuts: new TerraDrawUndoRedoKeyboardShortcuts(),
    },
  });
  draw.start();
  draw.setMode('static');
  draw.on('change', (ids, type, context) => {
    // A polygon or line being drawn gets its id when its first vertex is placed (guidance
    // points, such as the snapping cue, are features too, of another geometry or mode).
    if (!current && type === 'create') {
      current = ids.find((id) => {
        const f = draw.getSnapshotFeature(id);
        return f && f.properties.mode === drawingKind && f.geometry.type === GEOMETRY[drawingKind];
      }) || null;
    }
    if (current && ids.includes(current)) listeners.change?.(type, context);
  });
  draw.on('finish', (id, context) => {
    current = id;
    listeners.finish?.(context);
  });
  draw.on('history', (event) => listeners.history?.(event));
}

/**
 * Listens to the feature being drawn: change(type, context), finish(context), history(event).
 * Returns the listeners it replaces, for a borrower of the tools (the growing area's lasso)
 * to give them back.
 */
export function onDraw(next) {
  const before = listeners;
  listeners = { change: null, finish: null, history: null, ...next };
  return before;
}

/** Starts drawing a new polygon (kind "polygon") or a line (kind "linestring"). */
export function startDrawing(kind = 'polygon') {
  clear();
  drawingKind = kind;
  draw.setMode(kind);
}

/** Puts a Polygon on the map and selects it, its vertices ready to move. */
export function editGeometry(polygon) {
  clear();
  const id = draw.getFeatureId();
  const round = (c) => (typeof c[0] === 'number' ? [Number(c[0].toFixed(9)), Number(c[1].toFixed(9))] : c.map(round));
  const [v] = draw.addFeatures([{ id, type: 'Feature', geometry: { type: 'Polygon', coordinates: round(polygon.coordinates) }, properties: { mode: 'polygon' } }]);
  if (v && v.valid === false) throw new Error(v.reason || 'invalid geometry');
  current = id;
  draw.setMode('select');
  draw.selectFeature(id);
  draw.clearUndoRedoHistory();
}

/** Selects what was just drawn so that its vertices can be moved. */
export function selectDrawn() {
  if (!current) return;
  draw.setMode('select');
  draw.selectFeature(current);
}

/** Replaces the drawn polygon (the suggested shape), keeping it selected; undo brings back the old. */
export function replaceGeometry(polygon) {
  if (!current) return editGeometry(polygon);
  draw.updateFeatureGeometry(current, polygon);
  return undefined;
}

/** The drawn feature's geometry (a Polygon or LineString), or null. */
export function drawnGeometry() {
  if (!current) return null;
  return draw.getSnapshotFeature(current)?.geometry || null;
}

/** Whether a polygon or line is still being drawn (not finished). */
export function isDrawing() {
  return draw?.getModeState() === 'drawing';
}

export const undo = () => draw.undo();
export const redo = () => draw.redo();
export const canUndo = () => draw.canUndo();
export const canRedo = () => draw.canRedo();

/** Removes whatever is drawn and stops drawing. */
export function clear() {
  if (!draw) return;
  draw.setMode('static');
  draw.clear();
  draw.clearUndoRedoHistory();
  current = null;
}
