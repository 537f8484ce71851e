"""What the citizen is told beyond the steps themselves: a public update written by someone on
the case, and which of the case's photos the public may see (docs/workflow.md).

Every note of the trace is internal: the citizen's tracking page and Open311 show a public
step by its tracking label only, and the text of a public update. Every attachment is internal
until it is made public here, or was posted with a public update."""

from django.utils.translation import gettext_lazy as _

from cases.workflow import guards
from cases.workflow.spec import CASE, REGISTRY, Action, Step

# The step codes the pages and the citizen's views read.
PUBLIC_UPDATE = "public_update"
PHOTO_VISIBILITY = "photo_visibility"

REGISTRY.step(
    Step(
        PUBLIC_UPDATE,
        timeline=_("posted a public update"),
        tracking=_("Update from the people handling the case"),
        public=True,
        board=False,
        assessment="none: what the citizen is told, not a stage of the handling",
    )
)
REGISTRY.action(
    Action(
        name="post_update",
        on=CASE,
        steps=("public_update",),
        button=_("Post a public update"),
        done=_("The public update was posted."),
        summary=(
            "Post a short public message, with photos, that the citizen sees on the tracking "
            "page and in Open311 (village officer, captain on the case, committee at its level)"
        ),
        who=guards.speaks_for_case,
        when=guards.not_rejected,
        refusal=_("A rejected case takes no public updates."),
        run="cases.services.updates.run_post_update",
        form="cases.forms_detail.PostUpdateForm",
        serializer="cases.api.serializers.PostUpdateSerializer",
        photos=True,
    )
)

REGISTRY.step(
    Step(
        PHOTO_VISIBILITY,
        timeline=_("changed who may see a photo"),
        board=False,
        assessment="none",
    )
)
REGISTRY.action(
    Action(
        name="publish_photo",
        on=CASE,
        steps=("photo_visibility",),
        button=_("Show or hide a photo for the public"),
        done=_("Who may see the photo was changed."),
        summary=(
            "Mark a photo or document of the case public or internal (village officer, "
            "captain on the case, committee at its level)"
        ),
        who=guards.speaks_for_case,
        run="cases.services.updates.run_publish_photo",
        form="cases.forms_detail.PublishPhotoForm",
        serializer="cases.api.serializers.PublishPhotoSerializer",
    )
)

# The whistle's own text, address and photos are the whistler's words about neighbours: they
# reach the public only once someone who speaks for the case marks the case public.
CASE_VISIBILITY = "case_visibility"

REGISTRY.step(
    Step(
        CASE_VISIBILITY,
        timeline=_("changed whether the public may read the whistle"),
        board=False,
        assessment="none",
    )
)
REGISTRY.action(
    Action(
        name="publish_case",
        on=CASE,
        steps=("case_visibility",),
        button=_("Show or hide the whistle's text for the public"),
        done=_("Whether the public may read the whistle was changed."),
        summary=(
            "Mark the whistle's own text, address, exact place and photos public or internal "
            "for the tracking page and Open311 (village officer, captain on the case, "
            "committee at its level)"
        ),
        who=guards.speaks_for_case,
        run="cases.services.updates.run_publish_case",
        form="cases.forms_detail.PublishCaseForm",
        serializer="cases.api.serializers.PublishCaseSerializer",
    )
)
