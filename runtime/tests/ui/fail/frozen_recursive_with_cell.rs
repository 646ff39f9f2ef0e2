// Recursive types are accepted (pass/frozen_shapes.rs), but a Cell anywhere in one is still
// refused: in a plain field, in the recursive field itself, or in a generic field once the
// type is used.
use std::cell::{Cell, RefCell};

use isolate::Frozen;

#[derive(Frozen)]
struct List {
    next: Option<Box<Self>>,
    hits: Cell<u32>,
}

#[derive(Frozen)]
enum Tree<T> {
    Node(RefCell<Vec<Tree<T>>>),
    Leaf(T),
}

#[derive(Frozen)]
enum Counted<T> {
    Node(Vec<Counted<T>>),
    Leaf(Cell<T>),
}

fn frozen<T: Frozen>() {}

fn main() {
    frozen::<Counted<u64>>();
}
