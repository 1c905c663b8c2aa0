//! The relations graph as inline SVG: boxes are links to entity pages, edges carry the relation
//! type. Geometry comes from [`crate::graph_layout`]; colours come from CSS custom properties so
//! the drawing follows light and dark mode.

use crate::format::{kind_label, relation_label, summary_name, truncate};
use crate::graph_layout::{layout, NodeBox};
use crate::model::{EntitySummary, RelationGraph};
use leptos::prelude::*;

/// Characters of a name that fit in a box.
const NAME_CHARS: usize = 21;

fn node_view(b: &NodeBox, s: &EntitySummary) -> AnyView {
    let (x, y, w, h) = (b.x, b.y, b.w, b.h);
    let kind = kind_label(&s.entity_ref.kind);
    let kind = if s.error_count > 0 {
        format!("{kind} · ⚠ {}", s.error_count)
    } else {
        kind
    };
    let name = truncate(&summary_name(s), NAME_CHARS);
    let full = s.entity_ref.to_ref_string();
    let class = if b.is_center {
        "graph-node graph-node-center"
    } else {
        "graph-node"
    };
    let body = view! {
        <g>
            <title>{full}</title>
            <rect x=x y=y width=w height=h rx="8" ry="8"></rect>
            <text x=x + 12.0 y=y + 18.0 class="graph-node-kind">
                {kind}
            </text>
            <text x=x + 12.0 y=y + 35.0 class="graph-node-name">
                {name}
            </text>
        </g>
    };
    if b.is_center {
        view! { <g class=class aria-current="page">{body}</g> }.into_any()
    } else {
        let href = s.entity_ref.href();
        view! {
            <g class=class>
                <a href=href>
                    {body}
                </a>
            </g>
        }
        .into_any()
    }
}

/// Draws `graph`; says so plainly when there is nothing to draw.
#[component]
pub fn RelationsGraph(graph: RelationGraph) -> impl IntoView {
    let l = layout(&graph);
    if l.nodes.len() <= 1 {
        return view! { <p class="empty">"This entity has no relations to draw."</p> }.into_any();
    }
    let (w, h) = (l.width, l.height);
    let view_box = format!("0 0 {w:.0} {h:.0}");
    // Shrinks to fit the card, but never below three quarters of its size (then it scrolls).
    let sizing = format!("max-width:{w:.0}px;min-width:{:.0}px", w * 0.75);
    let hidden = l.hidden;
    let edges = l
        .edges
        .iter()
        .map(|e| {
            let label = relation_label(&e.relation);
            let (lx, ly, anchor) = (e.label_x, e.label_y, e.label_anchor);
            view! {
                <g class="graph-edge">
                    <path d=e.path.clone() marker-end="url(#graph-arrow)"></path>
                    <text x=lx y=ly text-anchor=anchor class="graph-edge-label">
                        {label}
                    </text>
                </g>
            }
        })
        .collect_view();
    let nodes = l
        .nodes
        .iter()
        .filter_map(|b| graph.nodes.get(b.index).map(|s| node_view(b, s)))
        .collect_view();
    view! {
        <div class="graph-scroll">
            <svg
                class="graph"
                xmlns="http://www.w3.org/2000/svg"
                viewBox=view_box
                width=format!("{w:.0}")
                height=format!("{h:.0}")
                style=sizing
                role="group"
                aria-label="Relations graph"
            >
                <defs>
                    <marker
                        id="graph-arrow"
                        viewBox="0 0 10 10"
                        refX="9"
                        refY="5"
                        markerWidth="7"
                        markerHeight="7"
                        orient="auto-start-reverse"
                    >
                        <path d="M0 0 L10 5 L0 10 z" class="graph-arrow"></path>
                    </marker>
                </defs>
                {edges}
                {nodes}
            </svg>
        </div>
        {(hidden > 0)
            .then(|| {
                view! {
                    <p class="muted small">
                        {format!("{hidden} more related entities are not drawn; the Relations tab lists them all.")}
                    </p>
                }
            })}
    }
    .into_any()
}
