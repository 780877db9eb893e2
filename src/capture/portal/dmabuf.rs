//! Sources that offer DMA-BUF only.
//!
//! The streams offer no `VideoModifier` (see [`super::params`]), so a
//! producer whose every format carries a mandatory modifier (a compositor
//! without a shared-memory path) can never link to them, and PipeWire does
//! not tell the consumer: its stream just never starts. So each target
//! node's own EnumFormat params are read once it shows in the registry, and
//! a node offering DMA-BUF formats only ends its stream with that reason.

use super::stream::{End, Slot};
use pipewire as pw;
use pw::core::{CoreRc, PW_ID_CORE};
use pw::node::{Node, NodeListener};
use pw::registry::RegistryRc;
use pw::spa::param::ParamType;
use pw::spa::pod::deserialize::PodDeserializer;
use pw::spa::pod::{Pod, PropertyFlags, Value};
use pw::types::ObjectType;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// Why such a stream ends.
pub(crate) const ONLY_DMABUF: &str = "the source offers only DMA-BUF buffers (GPU memory), which this backend cannot read: it maps shared memory";

/// Formats seen per node: (all, DMA-BUF only).
type Counts = Rc<RefCell<HashMap<u32, (u32, u32)>>>;

/// The listeners and node proxies; lives on the PipeWire loop's thread.
pub(crate) struct Check {
    _registry_listener: pw::registry::Listener,
    _core_listener: pw::core::Listener,
    _nodes: Rc<RefCell<Vec<(Node, NodeListener)>>>,
}

pub(crate) fn check(core: &CoreRc, registry: &RegistryRc, nodes: &[(u32, Arc<Slot>)]) -> Check {
    let slots: HashMap<u32, Arc<Slot>> = nodes.iter().cloned().collect();
    let counts: Counts = Rc::default();
    // Core sync sequence → node: its formats have all arrived at `done`.
    let pending: Rc<RefCell<HashMap<i32, u32>>> = Rc::default();
    let proxies: Rc<RefCell<Vec<(Node, NodeListener)>>> = Rc::default();
    let registry_listener = {
        let (core, registry, proxies) = (core.clone(), registry.clone(), proxies.clone());
        let (counts, pending, wanted) = (counts.clone(), pending.clone(), slots.clone());
        registry
            .clone()
            .add_listener_local()
            .global(move |global| {
                if global.type_ != ObjectType::Node || !wanted.contains_key(&global.id) {
                    return;
                }
                let Ok(node) = registry.bind::<Node, _>(global) else {
                    return;
                };
                let listener = count_formats(&node, global.id, counts.clone());
                node.enum_params(0, Some(ParamType::EnumFormat), 0, u32::MAX);
                if let Ok(seq) = core.sync(0) {
                    pending.borrow_mut().insert(seq.seq(), global.id);
                }
                proxies.borrow_mut().push((node, listener));
            })
            .register()
    };
    let core_listener = core
        .add_listener_local()
        .done(move |id, seq| {
            if id != PW_ID_CORE {
                return;
            }
            let Some(node) = pending.borrow_mut().remove(&seq.seq()) else {
                return;
            };
            let (all, dmabuf) = counts.borrow().get(&node).copied().unwrap_or_default();
            if all > 0
                && all == dmabuf
                && let Some(slot) = slots.get(&node)
            {
                slot.end(End::Failed(ONLY_DMABUF.into()));
            }
        })
        .register();
    Check {
        _registry_listener: registry_listener,
        _core_listener: core_listener,
        _nodes: proxies,
    }
}

fn count_formats(node: &Node, id: u32, counts: Counts) -> NodeListener {
    node.add_listener_local()
        .param(move |_, kind, _, _, param| {
            let Some(param) = param.filter(|_| kind == ParamType::EnumFormat) else {
                return;
            };
            let mut counts = counts.borrow_mut();
            let entry = counts.entry(id).or_default();
            entry.0 += 1;
            if dmabuf_only(param) {
                entry.1 += 1;
            }
        })
        .register()
}

/// Whether a format needs DMA-BUF: it has a mandatory `VideoModifier`.
pub(crate) fn dmabuf_only(param: &Pod) -> bool {
    let Ok((_, Value::Object(object))) = PodDeserializer::deserialize_any_from(param.as_bytes())
    else {
        return false;
    };
    object.properties.iter().any(|p| {
        p.key == pw::spa::sys::SPA_FORMAT_VIDEO_modifier
            && p.flags.contains(PropertyFlags::MANDATORY)
    })
}

#[cfg(test)]
mod tests {
    use super::super::params;
    use super::*;
    use pw::spa::pod::serialize::PodSerializer;
    use pw::spa::pod::{ChoiceValue, Property};
    use pw::spa::utils::{Choice, ChoiceEnum, ChoiceFlags};
    use std::io::Cursor;

    /// The streams' own EnumFormat with a modifier property added.
    fn with_modifier(flags: PropertyFlags) -> Vec<u8> {
        let bytes = params::enum_format().expect("format");
        let pod = params::pod(&bytes).expect("pod");
        let Ok((_, Value::Object(mut object))) =
            PodDeserializer::deserialize_any_from(pod.as_bytes())
        else {
            panic!("not an object");
        };
        object.properties.push(Property {
            key: pw::spa::sys::SPA_FORMAT_VIDEO_modifier,
            flags,
            value: Value::Choice(ChoiceValue::Long(Choice(
                ChoiceFlags::empty(),
                ChoiceEnum::Enum {
                    default: 0,
                    alternatives: vec![0],
                },
            ))),
        });
        PodSerializer::serialize(Cursor::new(Vec::new()), &Value::Object(object))
            .expect("serialize")
            .0
            .into_inner()
    }

    #[test]
    fn only_a_mandatory_modifier_means_dmabuf_only() {
        let pod = |bytes: &[u8]| dmabuf_only(params::pod(bytes).expect("pod"));
        let shm = params::enum_format().expect("format");
        assert!(!pod(&shm), "no modifier: shared memory");
        assert!(
            !pod(&with_modifier(PropertyFlags::empty())),
            "an optional modifier: shared memory still possible"
        );
        assert!(pod(&with_modifier(PropertyFlags::MANDATORY)));
    }
}
