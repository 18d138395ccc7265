"""Pixel regions of the critic: 3x3 spread, connected components (against a flood fill), grow/shrink and places."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sgd.critique.regions import (
    boundary_pixels,
    cell_counts,
    channel_spread,
    connected_components,
    grow,
    local_extreme,
    mask_regions,
    shrink,
    union_roots,
)


def flood_fill_components(labels: np.ndarray, ignore: int) -> np.ndarray:
    """Reference 8-connected labelling, one pixel at a time."""
    height, width = labels.shape
    owner = np.full(labels.shape, -1)
    count = 0
    for row in range(height):
        for col in range(width):
            if labels[row, col] == ignore or owner[row, col] >= 0:
                continue
            owner[row, col] = count
            stack = [(row, col)]
            while stack:
                y, x = stack.pop()
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        ny, nx = y + dy, x + dx
                        if 0 <= ny < height and 0 <= nx < width and owner[ny, nx] < 0 \
                                and labels[ny, nx] == labels[y, x]:
                            owner[ny, nx] = count
                            stack.append((ny, nx))
            count += 1
    return owner


@settings(max_examples=80, deadline=None)
@given(arrays(np.int16, st.tuples(st.integers(1, 18), st.integers(1, 18)), elements=st.integers(0, 3)))
def test_components_match_a_flood_fill(labels: np.ndarray) -> None:
    found = connected_components(labels, ignore=0, pixel_map=True)
    reference = flood_fill_components(labels, 0)
    assert len(found) == reference.max() + 1
    assert found.pixel_component is not None
    assert (found.pixel_component[labels == 0] == -1).all()
    for index in range(len(found)):
        pixels = found.pixel_component == index
        assert len(np.unique(reference[pixels])) == 1  # one component is one reference component...
        assert (reference == reference[pixels][0]).sum() == pixels.sum()  # ...and all of it
        ys, xs = np.nonzero(pixels)
        assert found.box(index) == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
        assert found.area[index] == pixels.sum()
        assert found.label[index] == labels[ys[0], xs[0]]


def test_diagonal_pixels_connect_and_a_u_shape_is_one_component() -> None:
    labels = np.zeros((6, 7), dtype=np.int8)
    labels[0, 0] = labels[1, 1] = labels[2, 2] = 1  # a diagonal
    labels[1:5, 4] = labels[1:5, 6] = labels[4, 4:7] = 2  # a U: its arms meet only at the bottom
    found = connected_components(labels, ignore=0)
    assert sorted(found.area.tolist()) == [3, 9]


def test_union_roots_joins_chains() -> None:
    roots = union_roots(6, np.array([5, 3, 1]), np.array([4, 2, 0]))
    assert roots.tolist() == [0, 0, 2, 2, 4, 4]


def test_channel_spread_marks_edges_not_fills() -> None:
    rgb = np.zeros((10, 10, 3), dtype=np.uint8)
    rgb[:, 5:] = (200, 100, 50)
    spread = channel_spread(rgb)
    assert spread[:, :4].max() == 0
    assert spread[:, 6:].max() == 0
    assert (spread[:, 4:6] == 200).all()


def test_grow_and_shrink_are_square_and_shrink_keeps_the_canvas_edge() -> None:
    mask = np.zeros((9, 9), dtype=bool)
    mask[4, 4] = True
    assert grow(mask, 2).sum() == 25
    assert shrink(grow(mask, 2), 2).sum() == 1
    assert shrink(np.ones((5, 5), dtype=bool), 2).all()


def test_boundary_pixels_outline_a_square() -> None:
    labels = np.zeros((7, 7), dtype=np.int8)
    labels[2:5, 2:5] = 1
    outline = boundary_pixels(labels)
    assert outline[2:5, 2:5].sum() == 8
    assert not outline[3, 3]


def test_mask_regions_gives_one_exact_box_per_place() -> None:
    mask = np.zeros((200, 300), dtype=bool)
    mask[10:40, 20:90] = True
    mask[150:190, 200:290] = True
    places = mask_regions(mask, 8)
    assert [box for box, _ in places] == [(200, 150, 90, 40), (20, 10, 70, 30)]
    assert [pixels for _, pixels in places] == [3600, 2100]
    assert mask_regions(mask, 8, min_pixels=3000) == [((200, 150, 90, 40), 3600)]


@settings(max_examples=60, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.integers(0, 255)))
def test_local_extreme_matches_the_3x3_neighbourhood(plane: np.ndarray) -> None:
    padded = np.pad(plane, 1, mode="edge")
    height, width = plane.shape
    windows = np.stack([padded[dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3)])
    expected = (plane == windows.max(axis=0)) | (plane == windows.min(axis=0))
    index = np.arange(plane.size)
    assert np.array_equal(local_extreme(plane, index), expected.ravel())


@settings(max_examples=60, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 40), st.integers(1, 40))), st.integers(1, 9))
def test_cell_counts_are_block_sums(mask: np.ndarray, cell: int) -> None:
    rows, cols = mask.shape[0] // cell, mask.shape[1] // cell
    expected = np.array([[int(mask[r * cell:(r + 1) * cell, c * cell:(c + 1) * cell].sum()) for c in range(cols)]
                         for r in range(rows)], dtype=np.int64).reshape(rows, cols)
    assert np.array_equal(cell_counts(mask, cell), expected)
