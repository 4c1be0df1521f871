// MLKD's two views of every batch (objectives.md §2.5; Jin-Ying/Multi-Level-Logit-Distillation
// runs each network once on the weak view and once on the strong view): a participant fed the
// rows [weak; strong] (2B) runs its model on each half separately, so batch statistics stay per
// view as in the reference, returns the weak view's logits and taps, and the strong view's
// logits as the tap "logits_strong" when asked for.
#pragma once

#include <memory>

#include "distill/distiller.h"

namespace tutor::distill {

Participant with_strong_view(const Participant& model);

// `objective` on the strong view: every "<model>.logits" it reads is served by
// "<model>.logits_strong" (e.g. MLKD's CE on the strong view). Named "<name>[strong]"; owns the
// wrapped objective as child "objective".
std::shared_ptr<Objective> on_strong_view(std::shared_ptr<Objective> objective);

}  // namespace tutor::distill
