// Shared logic for the lazy el-tree of areas and of party organisations.
// api: { roots(), children(id), get(id, opts) }
import { ref, nextTick } from 'vue'
import { itemsOf } from '../api'

export function useLazyTree(api) {
  const treeRef = ref()
  const treeKey = ref(0) // bump to rebuild the whole tree
  const empty = ref(false)
  const rootIds = ref(new Set()) // ids of the top nodes (the user's scope starts there)
  const treeProps = { label: 'name', isLeaf: (d) => !d.child_count }

  let rootsResolve
  let rootsReady = new Promise((r) => (rootsResolve = r))

  async function load(node, resolve) {
    let items = []
    try {
      const res = node.level === 0 ? await api.roots() : await api.children(node.data.id)
      items = itemsOf(res)
    } catch {
      items = []
    }
    if (node.level === 0) {
      empty.value = items.length === 0
      rootIds.value = new Set(items.map((i) => i.id))
    }
    else node.data.child_count = items.length
    resolve(items)
    if (node.level === 0) rootsResolve()
  }

  function rebuild() {
    rootsReady = new Promise((r) => (rootsResolve = r))
    empty.value = false
    treeKey.value++
  }

  const expand = (node) => new Promise((res) => node.expand(() => res(), false))

  /** Reload the children of a node (after a child was added); no id → rebuild all. */
  async function reloadChildren(id) {
    const node = id && treeRef.value?.getNode(id)
    if (!node) return rebuild()
    node.loaded = false
    node.isLeaf = false
    node.data.child_count = Math.max(1, node.data.child_count || 0)
    await expand(node)
  }

  /** Replace the data shown for a node (after an edit). */
  function updateNode(item) {
    const node = treeRef.value?.getNode(item.id)
    if (node) Object.assign(node.data, item)
  }

  /** Remove a node (after delete); keeps the parent's leaf state right. */
  function removeNode(id) {
    const tree = treeRef.value
    const node = tree?.getNode(id)
    if (!node) return
    const parent = node.parent
    tree.remove(node)
    if (parent && parent.data && !Array.isArray(parent.data)) {
      parent.data.child_count = Math.max(0, (parent.data.child_count || 1) - 1)
      if (parent.childNodes.length === 0) parent.isLeaf = true
    }
  }

  /** Expand the tree down to `id`, make it current and scroll to it. Returns the item. */
  async function locate(id, known) {
    await rootsReady
    await nextTick()
    const tree = treeRef.value
    if (!tree) return null
    let item = known || (await api.get(id))
    let ancestors = [] // top → bottom ids
    if (Array.isArray(item.path)) {
      ancestors = item.path.map((p) => p.id)
    } else {
      // walk up through parent_id until a node already in the tree (or the top of our scope)
      let cur = item
      while (cur.parent_id && !tree.getNode(cur.parent_id)) {
        ancestors.unshift(cur.parent_id)
        cur = await api.get(cur.parent_id, { silent: true }).catch(() => null)
        if (!cur) break
      }
      if (cur && cur.parent_id) ancestors.unshift(cur.parent_id)
    }
    for (const aid of ancestors) {
      const n = tree.getNode(aid)
      if (n && (!n.expanded || !n.loaded)) await expand(n)
    }
    await nextTick()
    tree.setCurrentKey(id)
    await nextTick()
    const el = tree.$el?.querySelector('.el-tree-node.is-current > .el-tree-node__content')
    if (el) el.scrollIntoView({ block: 'nearest', behavior: 'smooth' })
    return item
  }

  return { treeRef, treeKey, treeProps, empty, rootIds, load, rebuild, reloadChildren, updateNode, removeNode, locate }
}
