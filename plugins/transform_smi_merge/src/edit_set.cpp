#include "edit_set.h"

#include <algorithm>
#include <iterator>

namespace crossover::smi_merge {
namespace {

bool same_edit(const TextEdit& a, const TextEdit& b) {
    return a.pos == b.pos && a.len == b.len && a.text == b.text;
}

}  // namespace

EditSet::EditSet(std::vector<TextEdit> edits) {
    std::stable_sort(edits.begin(), edits.end(),
                     [](const TextEdit& a, const TextEdit& b) { return a.pos < b.pos; });
    entries_.reserve(edits.size());
    for (auto& e : edits) {
        if (!entries_.empty() && same_edit(entries_.back().edit, e)) {
            ++entries_.back().owners;
            continue;
        }
        entries_.push_back(Entry{std::move(e), 1});
    }
}

void EditSet::remove(const TextEdit& edit) {
    const auto it =
        std::lower_bound(entries_.begin(), entries_.end(), edit.pos,
                         [](const Entry& e, std::size_t pos) { return e.edit.pos < pos; });
    if (it == entries_.end() || !same_edit(it->edit, edit)) {
        return;
    }
    if (--it->owners == 0) {
        entries_.erase(it);
    }
}

bool EditSet::add(const TextEdit& edit) {
    const auto it =
        std::lower_bound(entries_.begin(), entries_.end(), edit.pos,
                         [](const Entry& e, std::size_t pos) { return e.edit.pos < pos; });
    if (it != entries_.end() && it->edit.pos == edit.pos) {
        if (!same_edit(it->edit, edit)) {
            return false;
        }
        ++it->owners;
        return true;
    }
    if (it != entries_.begin()) {
        const TextEdit& before = std::prev(it)->edit;
        if (before.pos + before.len > edit.pos) {
            return false;
        }
    }
    if (it != entries_.end() && edit.pos + edit.len > it->edit.pos) {
        return false;
    }
    entries_.insert(it, Entry{edit, 1});
    return true;
}

std::string EditSet::apply(const std::string& content) const {
    std::size_t extra = 0;
    for (const auto& e : entries_) {
        extra += e.edit.text.size();
    }
    std::string out;
    out.reserve(content.size() + extra);
    std::size_t at = 0;
    for (const auto& e : entries_) {
        out.append(content, at, e.edit.pos - at);
        out += e.edit.text;
        at = e.edit.pos + e.edit.len;
    }
    out.append(content, at, std::string::npos);
    return out;
}

}  // namespace crossover::smi_merge
