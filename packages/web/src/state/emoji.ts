/* The bundled emoji set for the picker and quick reactions (Unicode, drawn by the system font). */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '👏', '🙏', '✅', '👀'];

export const EMOJI_GROUPS: { id: string; emoji: string[] }[] = [
  {
    id: 'smileys',
    emoji: [
      ...'😀😃😄😁😆😅🤣😂🙂🙃😉😊😇🥰😍🤩😘😗😚😙😋😛😜🤪😝🤑🤗🤭🤫🤔🤐🤨😐😑😶😏😒🙄😬🤥😌😔😪🤤😴😷🤒🤕🤢🤮🥵🥶🥴😵🤯🤠🥳😎🤓🧐😕😟🙁😮😯😲😳🥺😦😧😨😰😥😢😭😱😖😣😞😓😩😫🥱😤😡😠🤬',
    ],
  },
  {
    id: 'gestures',
    emoji: [...'👋🤚🖐✋🖖👌🤏✌🤞🤟🤘🤙👈👉👆👇☝👍👎✊👊🤛🤜👏🙌👐🤲🤝🙏✍💪🧠👀'],
  },
  {
    id: 'hearts',
    emoji: ['❤️', '🧡', '💛', '💚', '💙', '💜', '🖤', '🤍', '🤎', '💔', '💯', '💢', '💥', '💫', '💦', '💤'],
  },
  {
    id: 'work',
    emoji: [...'✅❌⭕❗❓⚠📌📎📝📅📆📊📈📉💼📁📂🗂📋📞📱💻🖥⌨🖨🔒🔑🔔🎯🚀🏆🎉🎊🎁☕🍵🍰🍜🍚🥟🧧🏮'],
  },
];

export const ALL_EMOJI = EMOJI_GROUPS.flatMap((g) => g.emoji);
