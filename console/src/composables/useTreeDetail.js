// A browsable tree with one item's details beside it (区域, 党组织): the lazy tree (useLazyTree), the item
// shown, finding an item by search, refreshing, moving and deleting it.
// api: { roots(), children(id), get(id, opts), remove(id) }
//   onShown(item)  after an item is shown (the party organisations check whether it may be edited)
//   moveFields     the move dialog's own fields and their values when it opens (besides target)
//   deleteConfirm  the i18n key of the delete question ({ name })
import { ref, reactive, nextTick } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import { useLazyTree } from './useLazyTree'
import { useServerErrors, confirmDanger } from '../utils/forms'
import { isMobile } from '../utils/responsive'

export function useTreeDetail(api, { onShown, moveFields = {}, deleteConfirm }) {
  const { t } = useI18n()
  const tree = useLazyTree(api)
  const { treeRef } = tree

  // ---- selection & detail ----
  const selected = ref(null) // the full item
  const detailLoading = ref(false)
  const searchPick = ref(null)
  const detailRef = ref()
  async function showDetail(id) {
    detailLoading.value = true
    try {
      selected.value = await api.get(id)
      tree.updateNode(selected.value)
      onShown?.(selected.value)
    } catch {
      selected.value = null
    } finally {
      detailLoading.value = false
    }
  }
  // On a phone the details sit below the tree: bring them into view after a tap.
  async function revealDetail() {
    if (!isMobile.value) return
    await nextTick()
    detailRef.value?.scrollIntoView({ behavior: 'smooth', block: 'start' })
  }
  async function onCurrentChange(data) {
    if (data && data.id !== selected.value?.id) {
      await showDetail(data.id)
      revealDetail()
    }
  }
  async function locate(id) {
    const item = await tree.locate(id).catch(() => null)
    if (item) {
      selected.value = item
      onShown?.(item)
    }
    return item
  }
  async function onSearchPick(item) {
    searchPick.value = null
    if (item && item.id && (await locate(item.id))) revealDetail()
  }
  function refreshAll() {
    const id = selected.value?.id
    tree.rebuild()
    if (id) locate(id)
  }

  // ---- after the create / edit dialog saved ----
  // a new item: its parent's children afresh (the whole tree for a new root), then the item shown
  async function showCreated(item, parent) {
    if (parent) await tree.reloadChildren(parent.id)
    else tree.rebuild()
    if (item?.id) await locate(item.id)
  }
  // an edited item: the server's answer shown (the item asked for afresh when the answer has none)
  async function showUpdated(item, id) {
    if (item?.id) {
      selected.value = item
      tree.updateNode(item)
    } else await showDetail(id)
  }

  // ---- move: send(item) asks the server; a stale version (409) shows the item again ----
  const mv = reactive({ open: false, target: null, saving: false, ...moveFields })
  const mvServer = useServerErrors()
  function openMove() {
    Object.assign(mv, { target: null, ...moveFields })
    mvServer.clear()
    mv.open = true
  }
  async function runMove(send) {
    const item = selected.value
    mv.saving = true
    mvServer.clear()
    try {
      await send(item)
      ElMessage.success(t('common.moved'))
      mv.open = false
      tree.rebuild()
      await locate(item.id)
    } catch (e) {
      if (e.status === 409) {
        ElMessage.warning({ message: e.message || t('error.conflict'), duration: 5000 })
        await showDetail(item.id)
      } else mvServer.apply(e)
    } finally {
      mv.saving = false
    }
  }

  // ---- delete (a leaf): the parent is shown next ----
  async function remove() {
    const item = selected.value
    if (!(await confirmDanger(t(deleteConfirm, { name: item.name }), t('common.delete')))) return
    await api.remove(item.id)
    ElMessage.success(t('common.deleted'))
    tree.removeNode(item.id)
    selected.value = null
    if (item.parent_id && treeRef.value?.getNode(item.parent_id)) {
      treeRef.value.setCurrentKey(item.parent_id)
      showDetail(item.parent_id)
    }
  }

  return {
    tree, selected, detailLoading, searchPick, detailRef,
    showDetail, revealDetail, onCurrentChange, locate, onSearchPick, refreshAll, showCreated, showUpdated,
    mv, mvServer, openMove, runMove, remove,
  }
}
