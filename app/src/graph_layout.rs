//! Layout of the relations graph: pure geometry, drawn as SVG on the server.
//!
//! The entity sits in the middle column. A related node goes to the right when the center points
//! at it (`center ownedBy team`), to the left when it points at the center; nodes two hops out go
//! one column further on their parent's side. Tall columns spill into extra columns so the drawing
//! stays wide rather than very tall. Edges are horizontal cubic curves, labelled near the outer end.

use crate::model::RelationGraph;
use std::collections::VecDeque;

pub const NODE_W: f64 = 180.0;
pub const NODE_H: f64 = 46.0;
/// Horizontal space between columns, where edge labels sit.
pub const COL_GAP: f64 = 136.0;
pub const ROW_GAP: f64 = 14.0;
pub const PAD: f64 = 16.0;
/// Space between a label and the node box it sits next to.
const LABEL_GAP: f64 = 12.0;
/// Rows in one column before it spills into the next.
pub const MAX_ROWS: usize = 10;
/// Nodes drawn at most; the rest is counted in [`GraphLayout::hidden`].
pub const MAX_NODES: usize = 60;

#[derive(Clone, Debug, PartialEq)]
pub struct NodeBox {
    /// Index into [`RelationGraph::nodes`].
    pub index: usize,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub is_center: bool,
}

impl NodeBox {
    fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }

    /// Whether two boxes share any area.
    pub fn overlaps(&self, other: &NodeBox) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct EdgeLine {
    pub from: usize,
    pub to: usize,
    /// SVG path data.
    pub path: String,
    pub relation: String,
    pub label_x: f64,
    /// Baseline of the label.
    pub label_y: f64,
    /// SVG `text-anchor` of the label: `start` or `end`.
    pub label_anchor: &'static str,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphLayout {
    pub width: f64,
    pub height: f64,
    pub nodes: Vec<NodeBox>,
    pub edges: Vec<EdgeLine>,
    /// Related nodes left out to keep the drawing readable.
    pub hidden: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Left,
    Right,
}

/// Places the nodes of `graph` in columns around its center; see the module documentation.
pub fn layout(graph: &RelationGraph) -> GraphLayout {
    let n = graph.nodes.len();
    if n == 0 {
        return GraphLayout::default();
    }
    let center = graph
        .center
        .as_ref()
        .and_then(|c| graph.nodes.iter().position(|s| &s.entity_ref == c))
        .unwrap_or(0);

    let edges: Vec<(usize, usize, &str)> = graph
        .edges
        .iter()
        .filter(|(a, b, _)| *a < n && *b < n && a != b)
        .map(|(a, b, t)| (*a, *b, t.as_str()))
        .collect();

    // Breadth-first from the center: depth, side and the relation that reached each node.
    let mut depth: Vec<Option<usize>> = vec![None; n];
    let mut side = vec![Side::Right; n];
    let mut via: Vec<String> = vec![String::new(); n];
    depth[center] = Some(0);
    let mut order = vec![center];
    let mut queue = VecDeque::from([center]);
    while let Some(u) = queue.pop_front() {
        let du = depth[u].unwrap_or(0);
        let mut next: Vec<(usize, Side, &str)> = Vec::new();
        for &(a, b, t) in &edges {
            let (other, outward) = if a == u {
                (b, true)
            } else if b == u {
                (a, false)
            } else {
                continue;
            };
            if depth[other].is_some() || next.iter().any(|(o, _, _)| *o == other) {
                continue;
            }
            let s = if u == center {
                if outward {
                    Side::Right
                } else {
                    Side::Left
                }
            } else {
                side[u]
            };
            next.push((other, s, t));
        }
        for (other, s, t) in next {
            depth[other] = Some(du + 1);
            side[other] = s;
            via[other] = t.to_string();
            order.push(other);
            queue.push_back(other);
        }
    }
    // Nodes not connected to the center go one column beyond the farthest right column.
    let max_depth = depth.iter().flatten().copied().max().unwrap_or(0);
    for (i, d) in depth.iter_mut().enumerate() {
        if d.is_none() {
            *d = Some(max_depth + 1);
            order.push(i);
        }
    }

    let shown: Vec<usize> = order.iter().copied().take(MAX_NODES).collect();
    let hidden = n - shown.len();

    // Buckets by (side, depth), sorted for a stable drawing.
    let key = |i: usize| {
        let s = &graph.nodes[i];
        (
            via[i].clone(),
            s.entity_ref.kind.to_ascii_lowercase(),
            s.entity_ref.namespace.clone(),
            s.entity_ref.name.clone(),
        )
    };
    let mut columns: Vec<(i64, Vec<usize>)> = vec![(0, vec![center])];
    for s in [Side::Left, Side::Right] {
        let mut offset: i64 = 0;
        for d in 1..=max_depth + 1 {
            let mut bucket: Vec<usize> = shown
                .iter()
                .copied()
                .filter(|&i| i != center && side[i] == s && depth[i] == Some(d))
                .collect();
            if bucket.is_empty() {
                continue;
            }
            bucket.sort_by_key(|&i| key(i));
            for chunk in bucket.chunks(MAX_ROWS) {
                offset += 1;
                let col = if s == Side::Left { -offset } else { offset };
                columns.push((col, chunk.to_vec()));
            }
        }
    }

    let min_col = columns.iter().map(|(c, _)| *c).min().unwrap_or(0);
    let max_col = columns.iter().map(|(c, _)| *c).max().unwrap_or(0);
    let max_rows = columns.iter().map(|(_, v)| v.len()).max().unwrap_or(1);
    let col_height = |rows: usize| rows as f64 * NODE_H + rows.saturating_sub(1) as f64 * ROW_GAP;
    let inner_height = col_height(max_rows);

    let mut boxes: Vec<Option<NodeBox>> = vec![None; n];
    for (col, members) in &columns {
        let x = PAD + (col - min_col) as f64 * (NODE_W + COL_GAP);
        let top = PAD + (inner_height - col_height(members.len())) / 2.0;
        for (row, &i) in members.iter().enumerate() {
            boxes[i] = Some(NodeBox {
                index: i,
                x,
                y: top + row as f64 * (NODE_H + ROW_GAP),
                w: NODE_W,
                h: NODE_H,
                is_center: i == center,
            });
        }
    }

    let mut lines = Vec::new();
    for &(a, b, t) in &edges {
        let (Some(fa), Some(fb)) = (&boxes[a], &boxes[b]) else {
            continue;
        };
        // The label sits nearer the end farther from the center.
        let a_outer = depth[a] > depth[b];
        lines.push(edge_line(fa, fb, t, a_outer));
    }

    let cols = (max_col - min_col + 1) as f64;
    GraphLayout {
        width: 2.0 * PAD + cols * NODE_W + (cols - 1.0) * COL_GAP,
        height: 2.0 * PAD + inner_height,
        nodes: boxes.into_iter().flatten().collect(),
        edges: lines,
        hidden,
    }
}

/// One decimal is plenty for pixels and keeps the SVG short.
fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn edge_line(a: &NodeBox, b: &NodeBox, relation: &str, a_outer: bool) -> EdgeLine {
    let (sx, ex, c1x, c2x);
    if (a.x - b.x).abs() < 1.0 {
        // Same column: a loop out to the right.
        sx = a.x + a.w;
        ex = b.x + b.w;
        c1x = sx + 48.0;
        c2x = ex + 48.0;
    } else if a.x < b.x {
        sx = a.x + a.w;
        ex = b.x;
        let dx = (ex - sx) / 2.0;
        c1x = sx + dx;
        c2x = ex - dx;
    } else {
        sx = a.x;
        ex = b.x + b.w;
        let dx = (sx - ex) / 2.0;
        c1x = sx - dx;
        c2x = ex + dx;
    }
    let (sy, ey) = (a.cy(), b.cy());
    // The label sits just above the flat end of the curve next to the outer node, so labels of
    // neighbouring edges are a row apart and never cross another edge.
    let (outer, inner) = if a_outer { (a, b) } else { (b, a) };
    let (label_x, label_anchor) = if outer.x > inner.x + 1.0 {
        (outer.x - LABEL_GAP, "end")
    } else {
        (outer.x + outer.w + LABEL_GAP, "start")
    };
    EdgeLine {
        from: a.index,
        to: b.index,
        path: format!("M{sx:.1} {sy:.1} C{c1x:.1} {sy:.1}, {c2x:.1} {ey:.1}, {ex:.1} {ey:.1}"),
        relation: relation.to_string(),
        label_x: round1(label_x),
        label_y: round1(outer.cy() - 6.0),
        label_anchor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EntityRef, EntitySummary};

    fn node(kind: &str, name: &str) -> EntitySummary {
        EntitySummary {
            entity_ref: EntityRef::new(kind, "default", name),
            title: None,
            description: None,
            spec_type: None,
            lifecycle: None,
            owner: None,
            system: None,
            tags: vec![],
            error_count: 0,
        }
    }

    fn assert_no_overlap(l: &GraphLayout) {
        for e in &l.edges {
            assert!(
                e.label_x >= 0.0 && e.label_x <= l.width,
                "{e:?} label outside"
            );
            assert!(
                e.label_y >= 0.0 && e.label_y <= l.height,
                "{e:?} label outside"
            );
        }
        for (i, a) in l.nodes.iter().enumerate() {
            assert!(a.x >= 0.0 && a.y >= 0.0, "{a:?} outside");
            assert!(
                a.x + a.w <= l.width && a.y + a.h <= l.height,
                "{a:?} outside"
            );
            for b in &l.nodes[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
    }

    /// A center with `out` outgoing and `inc` incoming neighbours, each with `leaves` children.
    fn star(out: usize, inc: usize, leaves: usize) -> RelationGraph {
        let mut nodes = vec![node("component", "center")];
        let mut edges = Vec::new();
        for i in 0..out + inc {
            let idx = nodes.len();
            nodes.push(node("api", &format!("n{i}")));
            if i < out {
                edges.push((0, idx, "providesApi".to_string()));
            } else {
                edges.push((idx, 0, "dependsOn".to_string()));
            }
            for j in 0..leaves {
                let leaf = nodes.len();
                nodes.push(node("group", &format!("n{i}-leaf{j}")));
                edges.push((idx, leaf, "ownedBy".to_string()));
            }
        }
        RelationGraph {
            center: Some(EntityRef::new("component", "default", "center")),
            nodes,
            edges,
        }
    }

    #[test]
    fn empty_graph() {
        let l = layout(&RelationGraph::default());
        assert!(l.nodes.is_empty());
        assert_eq!(l.width, 0.0);
    }

    #[test]
    fn lone_center() {
        let g = RelationGraph {
            center: Some(EntityRef::new("component", "default", "c")),
            nodes: vec![node("component", "c")],
            edges: vec![],
        };
        let l = layout(&g);
        assert_eq!(l.nodes.len(), 1);
        assert!(l.nodes[0].is_center);
        assert_no_overlap(&l);
    }

    #[test]
    fn sides_follow_edge_direction() {
        let l = layout(&star(2, 3, 0));
        assert_no_overlap(&l);
        let center = l
            .nodes
            .iter()
            .find(|b| b.is_center)
            .cloned()
            .expect("center");
        for b in &l.nodes {
            let name = b.index;
            if b.is_center {
                continue;
            }
            // Nodes 1 and 2 are outgoing (right); 3..=5 incoming (left).
            if name <= 2 {
                assert!(b.x > center.x, "node {name} should be right");
            } else {
                assert!(b.x < center.x, "node {name} should be left");
            }
        }
        assert_eq!(l.edges.len(), 5);
        assert_eq!(l.hidden, 0);
    }

    #[test]
    fn big_and_deep_graphs_do_not_overlap() {
        for (out, inc, leaves) in [(1, 0, 0), (25, 0, 0), (7, 13, 0), (4, 3, 2), (12, 12, 1)] {
            let g = star(out, inc, leaves);
            let l = layout(&g);
            assert_no_overlap(&l);
            assert_eq!(l.nodes.len() + l.hidden, g.nodes.len());
            assert!(l.nodes.len() <= MAX_NODES);
        }
    }

    #[test]
    fn disconnected_nodes_and_bad_edges_are_tolerated() {
        let mut g = star(2, 1, 0);
        g.nodes.push(node("system", "island"));
        g.edges.push((0, 99, "bogus".into()));
        g.edges.push((1, 1, "self".into()));
        g.center = None;
        let l = layout(&g);
        assert_no_overlap(&l);
        assert_eq!(l.nodes.len(), g.nodes.len());
        assert_eq!(l.edges.len(), 3);
    }

    #[test]
    fn deterministic() {
        let g = star(5, 5, 1);
        assert_eq!(layout(&g), layout(&g));
    }
}
