import '../../shared/chat.js';
