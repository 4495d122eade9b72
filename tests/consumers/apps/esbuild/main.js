import '../shared/chat.js';
